"""Standard Webhooks (https://www.standardwebhooks.com/): signing and sending our outbound events."""
