"""Words and phrases the intent classifier knows, grouped by concept, in English, Hindi and
        Hinglish.

A concept is a meaning that several spellings share ("where": where, wher, kahan, kidhar, कहाँ).
        Rules in
`intents.py` speak only of concepts, so a new spelling is one word added here, not a new rule.
        Entries are
written as customers type them; `intents.normalise_word` folds case, doubled letters and
        Devanagari vowel
variants on both sides, so "adress" meets "address" and "कहां" meets "कहाँ".
"""

from __future__ import annotations

CONCEPTS: dict[str, str] = {
    # --- orders and their journey -----------------------------------------------------------------
    "ORDER": """order orders ordr odr oder ordered parcel parcels parsal package packages pkg packet
        shipment consignment saman samaan maal stuff awb ऑर्डर आर्डर ओर्डर पार्सल सामान पैकेट माल""",
    "ITEM": """item items product products prodcut saman samaan maal piece shoes shoe shirt dress
        kurta saree kapda kapde cover jeans top सामान प्रोडक्ट माल कपड़ा जूते""",
    "WHERE": "where wher whr wheres kahan kaha kahaan kha kidhar kidar kahan_tak कहाँ कहां किधर",
    "WHEN": "when whn wen kab kb कब",
    "ETA": "eta",
    "HOW_LONG": """how_long hw_long how_many_days kitne_din kitna_time kitne_time kitne_dino
        kitna_waqt so_long too_long taking_long itna_time itni_der by_when till_when कितने_दिन
        कितना_समय""",
    "ARRIVE": """come comes coming arrive arrives arive ariving arriving reach reaches deliver
        receive get gets aayega ayega aaega aega aayegi ayegi aaegi milega milegi milenge pahuchega
        pahunchega aa_jayega aajayega aa_jaega आएगा आयेगा आएगी आयेगी मिलेगा मिलेगी पहुँचेगा पहुंचेगा""",
    "ARRIVED": """came arrived reached delivered received recieved recived got aaya aya aayi aai ayi
        mila mili pahucha pahuncha pahuchi pahunchi pohcha आया आई मिला मिली पहुँचा पहुंचा पहुँची""",
    "NOT_ARRIVED": "not_here still_not not_yet abhi_tak_nahi",
    "DELIVERY": "delivery dilivery delivry delevery deliveries डिलीवरी डिलिवरी",
    "TODAY": """today tomorrow aaj kal monday tuesday wednesday thursday friday saturday sunday
        आज कल""",
    "DELAY": "delay delayed late der देर",
    "DATE": "date expected din day days दिन तारीख",
    "ASKED_DONE": "did has have hua hui gaya gya kiya",
    "STILL": "still yet abhi_tak ab_tak till_now so_far अभी_तक अब_तक",
    "WAIT": "wait waiting waited intezaar intezar इंतज़ार इंतजार",
    "STATUS": """status sttus stetus staus news khabar jankari kuch_pata pata_nahi_chal track
        tracking trak trackng tracked out_for_delivery dispatched dispatch shipped ship_hua bheja
        bheji pata_chala kuch_pata atka atki stuck halat स्टेटस स्थिति ट्रैक ट्रैकिंग भेजा भेजी
        पता_चला अटका खबर कुछ_पता पता_नहि_चल""",
    "UPDATE": "update updates अपडेट अपडेट्स",
    "INFO": "info information details detail jankari जानकारी",
    # --- cancelling -------------------------------------------------------------------------------
    "CANCEL": """cancel cancle cancell cancl canecl cancil cancelled canceled cancellation
        cancelation radd call_off कैंसल कैंसिल केंसल कैन्सल रद्द""",
    "WANT": "want wanted need needed chahiye chaiye chahie chahiya like_to चाहिए",
    # --- returns, refunds, exchanges --------------------------------------------------------------
    "REFUND": """refund refnd refunds refunded money_back paise_wapas paisa_wapas paise_vapas
        paisa_vapas paise_lauta paisa_lauta paise_wapis रिफंड पैसे_वापस पैसा_वापस पैसे_लौटा""",
    "MONEY": "money paise paisa pese rupees amount पैसे पैसा रकम",
    "RETURN": "return retrun retun returned returning returns send_back send_it_back वापसी रिटर्न",
    "BACK": "wapas vapas wapis vapis lauta lautao वापस लौटा लौटाओ",
    "TAKE": "lo le lelo le_lo lijiye ले लो लीजिए",
    "EXCHANGE": """exchange exchnage exchang exhange excange replace replacement replaced swap
        एक्सचेंज बदली""",
    "CHANGE": """change chng chnge chang changed modify correct correction edit badal badalna badlo
        badlna badalni badal_do sudhar sudhaar shift shifted moved बदल बदलना बदलो बदलें बदलनी सुधार
        सुधारें""",
    "DEFECT": """leaking leak leaked spilled stained scratched scratch dent expired used_product
        damaged damage damge broken broke tuta toota tooti tuti tuta_hua defective defect
        faulty torn phata phati not_working doesnt_work dont_work doesnt_switch kam_nahi_kar
        kharab_nikla kharab_aaya टूटा टूटी फटा फटी खराब_निकला""",
    "WRONG": """alag अलग wrong galat glt galath गलत incorrect incomplete different diff dusra dusri doosra
        doosri dusre दूसरा दूसरी दूसरे someone_else kisi_aur another not_what_i_ordered""",
    "MISSING": """missing empty khali nothing_inside खाली kam_aaya kam_aya kam_aayi gayab गायब
        कम_आया""",
    "SIZE": "size sise saiz sizes साइज़ साइज",
    "SIZE_WRONG": """small smaller big bigger tight loose large chhota chota choti chhoti bada badi
        छोटा छोटी बड़ा बड़ी""",
    "FIT": "fit fits fitting",
    "COLOUR": "colour color colur colours colors rang रंग कलर",
    "PACKAGING": "packaging packing box dabba पैकिंग",
    "LIKE": "pasand पसंद",
    # --- address ----------------------------------------------------------------------------------
    "LOCATION": "location lokation लोकेशन",
    "ADDRESS": """address adres addrs adrs adress addres pincode pin_code landmark flat_number
        house_number street एड्रेस पिनकोड पिन_कोड मकान_नंबर लैंडमार्क""",
    "ADDRESS_WEAK": "pata pate पता पते",
    "INSTEAD": "instead",
    "PLACE": "ghar home house place flat jagah घर जगह",
    "NEW": "new naya naye nayi नया नए नई instead another dusre other दूसरे दूसरा work",
    "ADD": "add",
    # --- people -----------------------------------------------------------------------------------
    "HUMAN": """human humans person agent executive representative rep insaan insan banda aadmi
        manager supervisor customer_care customer_support customer_service support_team support
        helpline call_center contact_number helpline_number care_number real_person live_person
        staff vyakti इंसान व्यक्ति कस्टमर_केयर हेल्पलाइन आदमी""",
    "TALK": "talk speak baat connect बात",
    "SOMEONE": "someone somebody anyone kisi koi किसी कोई mujhse मुझसे",
    "CALL": "call phone callback call_back कॉल फोन फ़ोन",  # not "ring": "ring twice" is for the doorbell
    "CALLING": "calling called calls",
    "NUMBER": "number num नंबर contact",
    "YOUR": "your aapka apka aapki apki aapke आपका आपकी",
    "BOT": "bot automated robot machine बॉट",
    # --- consent ----------------------------------------------------------------------------------
    "STOP": "quit stop band bnd bandh ruko roko बंद रोको रोक",
    "WHY": "why kyu kyon kyun kyo क्यों क्यूं",
    "REMOVE": "remove delete hatao hata हटाओ हटा",
    "UNSUB": "unsubscribe unsubscribed unsub opt_out optout remove_me deregister अनसब्सक्राइब",
    "MESSAGE": """message messages msg msgs massage sms text texts texting whatsapp updates
        notification notifications alerts अपडेट्स spam spamming spaming मैसेज मेसेज संदेश अपडेट
        नोटिफिकेशन व्हाट्सएप""",
    "SEND": """send sending bhej bhejo bhejna bhejiye bhejte bhejte_raho bhejdo bhej_do ship deliver
        भेज भेजो भेजना भेजिए भेजते भेजें""",
    "START": """start started resume restart unstop chalu chaalu shuru fir_se phir_se शुरू चालू
        फिर_से""",
    "SUBSCRIBE": "subscribe subscribed opt_in optin सब्सक्राइब",
    "YES": "yes yeah yup haan han haa ha ji_haan sure हाँ हां जी_हाँ",
    "KEEP": "keep continue raho rehna rahiye rakhna रहिए रहो रहना रखना",
    "AGREE": "agree allow can",
    "RECEIVE": "receive get",
    # --- feedback ---------------------------------------------------------------------------------
    "POSITIVE": """average decent first_class so_so theek_thaak not_bad good gud great nice awesome
        excellent superb amazing love loved lovely happy satisfied fantastic perfect best
        comfortable beautiful pretty soft cute genuine value_for_money fast quick polite helpful
        recommend accha acha achha achchha acchi achi achhi acche badhiya badiya badhia mast
        zabardast shandar sundar बढ़िया अच्छा अच्छी अच्छे शानदार बेहतरीन बढ़िया_है paisa_vasool
        paisa_wasool maza worth_it order_again thik_thak emojilove""",
    "NEGATIVE": """bad worst terrible poor rude cheap disappointed disappointing pathetic horrible
        useless waste bekar bekaar ghatiya ghatia kharab bura buri badtameezi badtamizi badtamiz
        late slow barbaad not_worth never_again improve could_be_better बेकार घटिया खराब बुरा बुरी
        बर्बाद""",
    "RATING": "star stars rating rated rate emojirating",
    "SUBJECT": """product quality service delivery packaging packing fabric kapda experience item
        material purchase courier delivery_boy delivery_guy sarvis सर्विस क्वालिटी डिलीवरी प्रोडक्ट
        सामान अनुभव""",
    # --- small talk -------------------------------------------------------------------------------
    "GREET": """hi hello helo hey hii heya namaste namaskar namastey ram_ram radhe_radhe
        jai_shri_krishna good_morning good_evening good_afternoon good_night shubh_prabhat gm
        emojiwave नमस्ते नमस्कार हैलो हेलो हाय राम_राम जय_श्री_कृष्ण शुभ_प्रभात सुप्रभात राधे_राधे""",
    "THANKS": """thanks thank thanku thnx thx tnx ty shukriya dhanyawad dhanyavad dhanyavaad धन्यवाद
        शुक्रिया""",
    "ACK": "acha accha achha ok okay okk k theek thik thk hmm hm alright fine emojiok ठीक ओके",
    # --- topics that are not one of our intents ---------------------------------------------------
    "OTHER_TOPIC": """price cost daam kitne_ka kitna_hai available availability stock discount
        coupon offer sale invoice bill payment pay paid upi gift cod cash_on_delivery original asli
        job timings open dukan store shop kaun who option emi warranty installment international दाम
        कीमत बिल दुकान असली कौन""",
    "SHOP": "dukan store shop located office ऑफिस दुकान",
    # --- grammar ----------------------------------------------------------------------------------
    "NEG": """not no nahi nahin nhi nai na never dont didnt doesnt hasnt havent isnt wont cant
        no_more no_longer any_more anymore नहीं न नही""",
    "NEG_IMPERATIVE": "dont mat never no_more मत न",
}

# Words that carry no intent: they may surround a bare "STOP" or "hello" without changing it.
FILLER = """please pls plz pl kindly lot ton bahut bohot didi di bhabhi aunty uncle दीदी भैया भाई सर
    मैडम ji sir madam mam maam bhai bhaiya bhaiyya yaar yar dear team
    there so much very now all it this that ye yeh the a an is am are my me i you to of for in
    on hai h hain ho hu hoon kya ka ki ke ko se mein mera meri mere karo kro kar kardo krdo
    karde karna do dijiye dijie kijiye karein karen karo_na jaldi abhi just again emojiplease
    है हैं का की के को से में मेरा मेरी मेरे मुझे ये यह क्या जी करो कर दो दीजिए करें कीजिए कृपया
    प्लीज अभी"""
