-- SPDX-License-Identifier: MIT
-- 0005_search.sql - the materials' search moves onto the core's substring index
-- (include/bento/search.h, docs/CORE-MODULES.md "Search"): every 1-, 2- and 3-character
-- gram of search_text, indexed per engine (SQLite: FTS5 table yunshui_materials_fts with
-- bento's tokenizer, the key map yunshui_materials_sk and three triggers; PostgreSQL: a GIN
-- index over bt_grams(search_text)). The existing rows are indexed here.
{{SEARCH yunshui_materials id search_text}}
