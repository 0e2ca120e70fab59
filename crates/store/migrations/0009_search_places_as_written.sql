-- kartoteka register, schema version 9: `search_names.place` holds each record's places as
-- written (search results show them; version 8 had them lower-cased, so "москва" was shown for
-- Москва). `search_records.place` stays lower-cased for the place filter. Emptying
-- `search_state` makes the web app's next start rebuild the index. Documented in
-- docs/register.md.

DELETE FROM search_state;
