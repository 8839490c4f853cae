"""HubSpot CRM: the customer's contact, and order events as notes on it."""
