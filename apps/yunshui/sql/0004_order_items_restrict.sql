-- SPDX-License-Identifier: MIT
-- 0004_order_items_restrict.sql - a material can no longer be deleted from under an item
-- (issue 7 §3; docs/apps/yunshui.md, Materials "Delete").
-- 0003 declared material_id ON DELETE SET NULL, and the delete handler checked for open
-- orders first. On PostgreSQL an order created between that check and the DELETE was not
-- seen by the check, and the foreign key then set its item's material_id to NULL: an open
-- order without its material. Now the foreign key takes no action (NO ACTION: the delete is
-- refused), so the database refuses a delete while any item names the material, committed
-- or not yet (PostgreSQL makes the DELETE wait for the inserting transaction). The handler
-- itself clears the link of the items of CANCELLED and COMPLETED orders (the document's rule:
-- they keep material_name) before it deletes, and a refusal is answered 409 RESOURCE_IN_USE.
-- NO ACTION rather than RESTRICT: SQLite reports a RESTRICT refusal as a trigger failure
-- (SQLITE_CONSTRAINT_TRIGGER), not as the foreign-key violation both engines agree on.
-- Neither engine can change a foreign key's action in place with the same SQL (SQLite cannot
-- at all), so the table is rebuilt: same columns, same rows, same indexes. On PostgreSQL the
-- primary key and the foreign keys keep the generated names of yunshui_order_items_new.
-- Nothing references yunshui_order_items, so dropping the old table touches no other table.

CREATE TABLE yunshui_order_items_new (
    id            TEXT PRIMARY KEY,
    order_id      TEXT NOT NULL REFERENCES yunshui_orders (id) ON DELETE CASCADE,
    position      BIGINT NOT NULL,                -- the item's index in the request
    material_id   TEXT REFERENCES yunshui_materials (id) ON DELETE NO ACTION,
    material_name TEXT NOT NULL,
    quantity      BIGINT NOT NULL CHECK (quantity > 0),
    unit_price    BIGINT NOT NULL CHECK (unit_price >= 0),
    subtotal      BIGINT NOT NULL CHECK (subtotal >= 0)
);
INSERT INTO yunshui_order_items_new
    (id, order_id, position, material_id, material_name, quantity, unit_price, subtotal)
    SELECT id, order_id, position, material_id, material_name, quantity, unit_price, subtotal
    FROM yunshui_order_items;
DROP TABLE yunshui_order_items;
ALTER TABLE yunshui_order_items_new RENAME TO yunshui_order_items;
CREATE INDEX yunshui_order_items_order ON yunshui_order_items (order_id, position);
CREATE INDEX yunshui_order_items_material ON yunshui_order_items (material_id);
