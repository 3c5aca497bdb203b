BEGIN TRANSACTION;
CREATE TABLE audit_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at REAL NOT NULL,
    device_id TEXT,
    kind TEXT NOT NULL,
    detail TEXT NOT NULL DEFAULT '',
    client TEXT NOT NULL DEFAULT ''
);
INSERT INTO "audit_events" VALUES(1,1.79611365642558646208e+09,'16c1ca3bc95e480c8101fbd228900131','setup','','127.0.0.1');
INSERT INTO "audit_events" VALUES(2,1.79611365687485408787e+09,'16c1ca3bc95e480c8101fbd228900131','backup_enabled','folder new','');
CREATE TABLE device_keys (
    device_id TEXT PRIMARY KEY REFERENCES devices(id) ON DELETE CASCADE,
    public_key BLOB NOT NULL,
    created_at REAL NOT NULL
);
INSERT INTO "device_keys" VALUES('16c1ca3bc95e480c8101fbd228900131',X'CC56DC94BF3DD0A9C1F014A5491CC75DF35FE532885618CE7727D117BD2AD946',1.79611365644792103767e+09);
CREATE TABLE device_settings (
    device_id TEXT NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (device_id, key)
);
INSERT INTO "device_settings" VALUES('16c1ca3bc95e480c8101fbd228900131','account_count','4');
INSERT INTO "device_settings" VALUES('16c1ca3bc95e480c8101fbd228900131','lock_minutes','10');
INSERT INTO "device_settings" VALUES('16c1ca3bc95e480c8101fbd228900131','backup_status','{"state": "on", "last_backup_at": "2026-12-01T08:27:36.857Z", "count": 4, "generation": 1, "target": {"kind": "folder", "where": "/tmp/authvault-test-old-data-folder-backup"}}');
CREATE TABLE devices (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    cookie_hash TEXT NOT NULL UNIQUE,
    created_at REAL NOT NULL,
    last_used_at REAL
);
INSERT INTO "devices" VALUES('16c1ca3bc95e480c8101fbd228900131','Old phone','861df7050399cf9c7f836c238adc099c5deb162239b8bb13275b5cea6e3513b8',1.7961136564243502617e+09,1.79611365642555856703e+09);
CREATE TABLE enroll_tokens (
    token_hash TEXT PRIMARY KEY,
    created_by TEXT REFERENCES devices(id) ON DELETE SET NULL,
    created_at REAL NOT NULL,
    expires_at REAL NOT NULL,
    used_at REAL,
    used_by TEXT
);
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
INSERT INTO "meta" VALUES('schema_version','1');
CREATE TABLE passkey_challenges (
    challenge TEXT PRIMARY KEY,
    device_id TEXT NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
    purpose TEXT NOT NULL,
    expires_at REAL NOT NULL
);
CREATE TABLE passkeys (
    id TEXT PRIMARY KEY,
    device_id TEXT NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    public_key BLOB NOT NULL,
    sign_count INTEGER NOT NULL DEFAULT 0,
    transports TEXT NOT NULL DEFAULT '[]',
    unlock_mode TEXT NOT NULL,
    device_type TEXT NOT NULL DEFAULT '',
    backed_up INTEGER NOT NULL DEFAULT 0,
    created_at REAL NOT NULL,
    last_used_at REAL
);
CREATE TABLE transfers (
    id TEXT PRIMARY KEY,
    sender_id TEXT NOT NULL,
    sender_name TEXT NOT NULL,
    receiver_id TEXT NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
    count INTEGER NOT NULL,
    created_at REAL NOT NULL,
    key_fingerprint TEXT NOT NULL,
    sealed TEXT NOT NULL
);
CREATE TABLE unlock_sessions (
    id TEXT PRIMARY KEY,
    device_id TEXT NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
    wrapped_key BLOB NOT NULL,
    created_at REAL NOT NULL,
    last_seen_at REAL NOT NULL
);
INSERT INTO "unlock_sessions" VALUES('140b006bbf4ba4d00e8c0c00436bc170901048117d22691f6be43588e4879011','16c1ca3bc95e480c8101fbd228900131',X'01B2F10E31B7E62099823839AF66B864D074D6F7260BA7A0B07AA056FD436BB422B49E1CED497C4948C4170C247230026DEB87C8B8996C23EE7470305C',1.79611365643917202951e+09,1.79611365643917202951e+09);
CREATE TABLE vaults (
    device_id TEXT PRIMARY KEY REFERENCES devices(id) ON DELETE CASCADE,
    envelope TEXT NOT NULL,
    updated_at REAL NOT NULL
);
INSERT INTO "vaults" VALUES('16c1ca3bc95e480c8101fbd228900131','{"version": 1, "header": {"slots": [{"type": "passphrase", "uuid": "98d26fb0-2f0d-4ce4-ba15-6e7edaa1c011", "key": "7db18cbf9d01e9c6bba819e2bd032358984ef859c4172709eaf584ac6ea24246", "key_params": {"nonce": "99bb2d08d222cf5f70e83ff9", "tag": "b7317dc8766230c329ce8935cf347cdf"}, "n": 16, "r": 8, "p": 1, "salt": "7dcb5fad2a029ffd0b37660833536946f5d4192ad3069ad4fbbc2c3d9565a707"}], "params": {"nonce": "b562aa3c04fc0cc3ccadb1c4", "tag": "78f498ad10eadb52813462453ce8d75c"}}, "authvault": {"format": 1, "device_id": "16c1ca3bc95e480c8101fbd228900131", "header_mac": "83a27484a90dc55da03e6e3b7df1992ef156b24821ec06e8e23ab880711a9229"}, "db": "znO6nLezxyzgR43klcQVgkNccyM8SK+mvo3/98CzJpK9XzscOv/siY8hsW+nd5QSygkUfM9D3TWMPLk9CLSFo2W/Afd+VVH2ZRm/BhHQRqPXR8bg8m4uGizvQ1XCczHaOvRItB82GwK3+aTcbpc5BYEcu5X8duO4bFg7ifeFuVFN2oTcB5OEU5CoC3CyExdT1JpAoAIUIMqNlvQfCGMAajHbYAjRFzbCwv7GcfDtvsaks3oYH35DEju4p5EWcV2UKAM/Y9UCKYWLS7Zqm9CKjlCB7RJ6BfFwQ0VhttPKbW3LlYmaGetzv0w/BwL4p0WJBYglZwSStuO8oDQLXReH4oN4qB9xP+6R+XKcPzSSlXNopqPL9Mw6rCRhdn2u7wi6qzxLsYnADYkc3wNWWf9ghKUSjsZPI2Ogjr4rA9GB0ypoNo4JV3NIvzOzwzcQ8KryyKfqaK3Xg7bZp6E65/+/K6cc8XMQM2pGbSYnqixI2n9ULGCU6u2x4zhOiQjqpMWSb6xto1EQHZ8oD8K5z/CZc60SAkmeRPtSW8iybW6nC9eVTaqPcG5bMXXH+sHzqRJkM58Tt/zRqZ0InRBzqvyS9rcXeio+Zn/sYUbEcwlXTYPI0eAcx/HDPZE6epBHaxT2WBUVDVHTNkR+wNQGJEpT4leqWcR4AjyS//zcrNL13QBQtxJSFfqMqc+JlJkbjnCS6pzcE9FGIxHXabHVnWfg4atJQkT0TYHu7SWoQ25qgKcwUUoU7LQC2GQ04HSPQnkaksS4g7Qaz3QvciwycV5Zv7eQFeTv/qD5oqCRygfVuANgHw7SojIbf4S8A37Zi+6YVgwy648vKG8kibGCv9hXjPZzyt0vwNteyKvrPWqB8KuCh53oPp+b/pXJZlgafd76v8jgkGc7u4f4zgykamMUiMNKbKW7L4gQcOvAYXTgli+v4bBj1lX7vN/JbMKuEZ6e+sDWMnes/ZwmTJ4c9na4cU1u7bs8KO1iTQAi++hNgOGczgQb2gwZqD6yEAlGD/t6DRQjif/I7z4x7+BzjPBT2hzDxa2dQ/RQkO/bBS7uLmWQNTMTmEIZEUX5fMk7s0xNwIb2XQf96IYLq7gWzMqN/DbSNakpoPp4Szc6VtaAD0bfQiRj9Z1I93zj8c3MtJDTX8cCCoBG4ePr0TxAJZOCt6717p2kzWX7xibLWQ8QeqIOPUFyzDvWtsFNLj//y10vr3KWEodDx4auy9KQ2ZiurAt+UevV+BioLAckk/dcaoUXW0g3P/arbR2siH2AxJ6rRlra6KNa5qCu6jGrL3BmqiQhDug4p9JBnPmpLVrj+6o14jmlc0YIw/jTd57QxgH/hnGypUlRNUiQk8bkgNAKF0Rrw+mHN4GYnJpUNYF2xTtGTLdXqVhEkjMLZNsCE11XFON/Kl72ZrS3YIdyVxpYWYI7qXYfqDWjcUFjwHxS6HAlbm8hPmAGXr/fGDQTmaQSIJWVMV/mPomHjcvo5BnjLfYnVLTXiwoAuVqaNnrFeLpDSigB9bGnCLZsL0t/BpGmWOvCpnqJu94YqviwkcMtYTxiL/UrVAfqmz5o4W6k/4NRKE+1AK6U2ImnaVRzvtewscXSoWBrI6H0fLJccFmOg7aaPt1CqlsZPaRkt8P6JLXtqC2NPPyYeNOdE1Z2XD6cYX37gqBjWv3hjD9WUDV5ib5tKZOeiwWNiwRJjOpccxHZsXZA+2UoU+fBL5aAbDc/crrS9HuMnLDEmYQSMLxFpq/V0p8mloU+VeK6vRPVSZtRZSObY+/acDasP7XgaE54wjyjWfm9PWfxzkdjBRRTNZIA5pCqS+QVFrnngC4I0GntW9be0tVuOCMta6BqqZfu7DQ2mPWmIhVc6LgkB08u9xH34MuqxE48hrC24q97F0kzssE+wW7ko0tmjtT2GUWQvCvHk2UCcQSO/vOkawiTzTDiqs74Krb+YXqTMnFpojCIkuYOaeLwSGr5nWi46cji0y4DTpIs58pdxheVubCaBikat8sfIbX5HxIoPsHlBA9UwoAbw4RI0U1xeQcFtjrgk4DOEgrneVS1J8AAABFvu7CG5HAJxFsxZxMVqjdN3kpLSS9eP8HnAIPwvWjOC8JrgrI0OMHv7E+0+y9je+8ILWb+5iCF4rypwvIS6ZJz7ZjSKou+dsO9jUCRW4a4+qw+NQfaj++oRQ1+2HoAdb8rnAtekfrbw5O79/GjNNdCzptUChlNI0m1Pyuio8pDLlpv7yy5zRORUg2YBCIbDFRbXu1r7fBtIPMUKmPxiIozbH36ufcPl6QWV/FJ3DVSLApPhzTMxpVhRUKLFHZkWsV93Q0XS6hRg9mYQvx14Xs1D/F16rj7Jfjo0yPckNkF39Wh2X3XJY86qv8sli2lvo1HgwyWSyF8XGST34ZHAjqf5/5RC83r6/Jn/ENecTNuPKoghr0On7gH1QEXz3+kGalyi0IRn3pUgMJx5f2EwuseRPQiNlD7HimVLKz1+4eaTv2WnNRWENiF4RL+LhOgjgTm0maaz08MYCZTM2mjim9wCYat1nHB++7joGr1plC+/PEd+0wSvcbNp013Lmt3PrT1URrdZqL/1IEbzy8cZN1E43pGKegHg6ed7DDihXyCjZoetyRZkTwQAopq4s83D/8uOOU88uwbzF7fsqChzO4HAx1rJ0C9j9BMx3GkpA1egQQJD36B8pED6+WIdRSKRfuDc+xyoc9QqRzgQ5UzdbqPlHV3R/GQhxtHTL5GdbpxZJf6ARRkZQtXXSmejD04NYFWCevknhL5bdN1if6pI/GIWNqadeLj814p"}',1.7961136568716714382e+09);
CREATE INDEX audit_by_device ON audit_events(device_id, at);
CREATE INDEX passkeys_by_device ON passkeys(device_id);
CREATE INDEX transfers_by_receiver ON transfers(receiver_id, created_at);
DELETE FROM "sqlite_sequence";
INSERT INTO "sqlite_sequence" VALUES('audit_events',2);
COMMIT;
