-- Read caches (docs/apps/vendorchat.md, "Caches"). On PostgreSQL each line puts a trigger on
-- the table that, inside every writing transaction, tells every bento instance's listener which
-- keys of the cache to drop (pg_notify, delivered at commit): the vendor row by id, a vendor's
-- parameters by vendor id, the knowledge generation by key. Any writer is covered, psql
-- included. On SQLite, where bento does not cache, the lines create nothing.
{{CACHE vendorchat_vendors vendorchat_vendors id}}
{{CACHE vendorchat_vendor_configs vendorchat_params vendor_id}}
{{CACHE vendorchat_meta vendorchat_meta key}}
