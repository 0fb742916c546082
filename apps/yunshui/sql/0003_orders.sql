-- SPDX-License-Identifier: MIT
-- 0003_orders.sql - yunshui orders, their items, their status history and the per-year
-- order-number counter (document 002 "訂單管理 API", note yunshui.md "Orders").
-- Portable subset (SQLite >= 3.35 and PostgreSQL 15): TEXT/BIGINT only, TEXT UUID keys
-- generated in C, CHECK constraints for enums, ISO-8601 TEXT timestamps written by C.
-- Money is BIGINT in 1/10000 units (1500.0000 is 15000000), so sums are exact.
-- Depends on 0002_materials.sql (yunshui_materials: id, name, price, stock, min_stock).

CREATE TABLE yunshui_orders (
    id               TEXT PRIMARY KEY,
    order_number     TEXT NOT NULL UNIQUE,        -- ORD-<year>-<seq, at least 3 digits>
    customer_name    TEXT NOT NULL,
    customer_phone   TEXT,
    customer_email   TEXT,
    customer_address TEXT,
    status           TEXT NOT NULL DEFAULT 'PENDING'
                     CHECK (status IN ('PENDING', 'PROCESSING', 'COMPLETED', 'CANCELLED')),
    total_amount     BIGINT NOT NULL CHECK (total_amount >= 0),
    notes            TEXT,
    created_by       TEXT NOT NULL,               -- user id; users are disabled, never deleted
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL
);
CREATE INDEX yunshui_orders_created_at ON yunshui_orders (created_at);
CREATE INDEX yunshui_orders_status ON yunshui_orders (status);
CREATE INDEX yunshui_orders_created_by ON yunshui_orders (created_by);

-- material_id is SET NULL when a material is deleted (allowed once only COMPLETED or
-- CANCELLED orders use it); material_name keeps the name the order was placed with.
CREATE TABLE yunshui_order_items (
    id            TEXT PRIMARY KEY,
    order_id      TEXT NOT NULL REFERENCES yunshui_orders (id) ON DELETE CASCADE,
    position      BIGINT NOT NULL,                -- the item's index in the request
    material_id   TEXT REFERENCES yunshui_materials (id) ON DELETE SET NULL,
    material_name TEXT NOT NULL,
    quantity      BIGINT NOT NULL CHECK (quantity > 0),
    unit_price    BIGINT NOT NULL CHECK (unit_price >= 0),
    subtotal      BIGINT NOT NULL CHECK (subtotal >= 0)
);
CREATE INDEX yunshui_order_items_order ON yunshui_order_items (order_id, position);
CREATE INDEX yunshui_order_items_material ON yunshui_order_items (material_id);

-- One row per change, the creation included (from_status NULL).
CREATE TABLE yunshui_order_status_history (
    id          TEXT PRIMARY KEY,
    order_id    TEXT NOT NULL REFERENCES yunshui_orders (id) ON DELETE CASCADE,
    position    BIGINT NOT NULL,                  -- 0 for the creation, then 1, 2, ...
    from_status TEXT,
    to_status   TEXT NOT NULL,
    notes       TEXT,
    changed_by  TEXT NOT NULL,
    changed_at  TEXT NOT NULL
);
CREATE INDEX yunshui_order_status_history_order
    ON yunshui_order_status_history (order_id, position);

-- The last sequence number handed out per year. Bumped with INSERT ... ON CONFLICT DO UPDATE
-- ... RETURNING in the transaction that inserts the order, so numbers are unique and
-- gap-free: a failed insert rolls its number back, and concurrent creators wait on the row.
CREATE TABLE yunshui_order_seq (
    year TEXT PRIMARY KEY,
    last BIGINT NOT NULL
);
