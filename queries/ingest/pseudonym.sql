-- pseudonym(value, inner_pad, outer_pad): a client id's keyed pseudonym, HMAC-SHA-256 of the id's UTF-8 bytes
-- under the import key, its first 128 bits as 32 hex digits (atlas/ingest/pseudonym.py says why; tests check
-- that both give the same pseudonym). HMAC(K, m) = H((K' xor opad) || H((K' xor ipad) || m)), with K' the key
-- padded to 64 bytes: the two pads are worked out from the key in Python and bound, so the key itself never
-- reaches SQL text. A temporary macro: it lives on the import's connection, never in a database file.
create or replace temp macro pseudonym(value, inner_pad, outer_pad) as
    substr(sha256(outer_pad || unhex(sha256(inner_pad || encode(value)))), 1, 32)
