-- The SMS codes sent (alerts excepted), for the rate limits per customer and per phone
-- (issue 11 §4). Rows older than an hour are dropped on the way.
CREATE TABLE sms_sends (
    phone       TEXT    NOT NULL,
    customer_id INTEGER,
    at          INTEGER NOT NULL
);
CREATE INDEX sms_sends_phone ON sms_sends(phone, at);
CREATE INDEX sms_sends_customer ON sms_sends(customer_id, at);
