-- SPDX-License-Identifier: MIT
-- 0001_vendors.sql - vendorchat vendors and their parameters, with the two seed vendors the
-- document's examples use (docs: shared/spec/vendorchat.md, "Data" and "Seed data").
-- Portable subset (SQLite >= 3.35 and PostgreSQL 15): TEXT/BIGINT/BOOLEAN, {{ID}} keys,
-- CHECK constraints for enums, ISO-8601 TEXT timestamps written by C (no DEFAULT now()).
-- Seed vendors are inserted WITHOUT explicit ids, in order, so they get 1 and 2 on both
-- engines and PostgreSQL's identity sequence stays in step for later inserts.

CREATE TABLE vendorchat_vendors (
    id                      {{ID}},
    code                    TEXT NOT NULL UNIQUE,           -- immutable after create
    name                    TEXT NOT NULL,
    short_name              TEXT,
    contact_phone           TEXT,
    contact_email           TEXT,
    address                 TEXT,
    subscription_plan       TEXT NOT NULL DEFAULT 'basic',
    subscription_status     TEXT NOT NULL DEFAULT 'active'
                            CHECK (subscription_status IN ('active', 'suspended', 'expired')),
    subscription_start_date TEXT,                           -- YYYY-MM-DD
    is_active               BOOLEAN NOT NULL DEFAULT TRUE,
    settings                TEXT NOT NULL DEFAULT '{}',     -- JSON object
    created_at              TEXT NOT NULL,
    updated_at              TEXT,
    created_by              TEXT NOT NULL DEFAULT 'admin',
    updated_by              TEXT
);
CREATE INDEX vendorchat_vendors_created_at ON vendorchat_vendors (created_at);

CREATE TABLE vendorchat_vendor_configs (
    id           {{ID}},
    vendor_id    BIGINT NOT NULL REFERENCES vendorchat_vendors (id) ON DELETE CASCADE,
    category     TEXT NOT NULL,
    param_key    TEXT NOT NULL,
    param_value  TEXT NOT NULL,
    data_type    TEXT NOT NULL DEFAULT 'string'
                 CHECK (data_type IN ('string', 'number', 'date', 'boolean', 'json')),
    display_name TEXT,
    description  TEXT,
    unit         TEXT,
    is_active    BOOLEAN NOT NULL DEFAULT TRUE,
    created_at   TEXT NOT NULL,
    updated_at   TEXT,
    UNIQUE (vendor_id, category, param_key)
);

INSERT INTO vendorchat_vendors
    (code, name, short_name, contact_phone, contact_email, address, subscription_plan,
     subscription_status, subscription_start_date, is_active, settings, created_at, updated_at,
     created_by)
VALUES
    ('VENDOR_A', '甲山林包租代管股份有限公司', '甲山林', '02-2345-6789', 'service@vendorA.com',
     '台北市信義區信義路五段100號', 'premium', 'active', '2024-01-01', TRUE, '{}',
     '2024-01-01T00:00:00', '2024-01-01T00:00:00', 'admin');
INSERT INTO vendorchat_vendors
    (code, name, short_name, contact_phone, contact_email, address, subscription_plan,
     subscription_status, subscription_start_date, is_active, settings, created_at, updated_at,
     created_by)
VALUES
    ('VENDOR_B', '信義包租代管股份有限公司', '信義', '02-8765-4321', 'support@vendorB.com',
     '台北市大安區仁愛路三段200號', 'standard', 'active', '2024-01-01', TRUE, '{}',
     '2024-01-01T00:00:00', '2024-01-01T00:00:00', 'admin');

-- Parameters: keys with a unit are numbers. payment_day and late_fee come first so their ids
-- are 1 and 2, as in the document's configs example.
INSERT INTO vendorchat_vendor_configs
    (vendor_id, category, param_key, param_value, data_type, display_name, description, unit,
     is_active, created_at)
VALUES
    (1, 'payment', 'payment_day', '1', 'number', '繳費日期', '每月繳費日期', '號', TRUE, '2024-01-01T00:00:00'),
    (1, 'payment', 'late_fee', '200', 'number', '逾期手續費', '逾期繳費手續費', '元', TRUE, '2024-01-01T00:00:00'),
    (1, 'payment', 'payment_method', '銀行轉帳、超商繳費', 'string', '繳費方式', '可使用的繳費方式', NULL, TRUE, '2024-01-01T00:00:00'),
    (1, 'payment', 'grace_period', '5', 'number', '繳費寬限期', '逾期後的繳費寬限天數', '天', TRUE, '2024-01-01T00:00:00'),
    (1, 'contract', 'min_lease_period', '12', 'number', '最短租期', '最短租約期間', '月', TRUE, '2024-01-01T00:00:00'),
    (1, 'contract', 'deposit_months', '2', 'number', '押金月數', '押金相當於幾個月租金', '月', TRUE, '2024-01-01T00:00:00'),
    (1, 'contract', 'termination_notice_days', '30', 'number', '提前解約通知期', '提前解約需事先通知的天數', '天', TRUE, '2024-01-01T00:00:00'),
    (1, 'service', 'service_hotline', '02-2345-6789', 'string', '客服專線', '24小時客服專線', NULL, TRUE, '2024-01-01T00:00:00'),
    (1, 'service', 'service_hours', '週一至週日 09:00-21:00', 'string', '服務時間', '客服服務時間', NULL, TRUE, '2024-01-01T00:00:00'),
    (1, 'service', 'emergency_repair_hours', '24小時', 'string', '緊急維修時效', '緊急報修處理時效', NULL, TRUE, '2024-01-01T00:00:00'),
    (1, 'contact', 'office_address', '台北市信義區信義路五段100號', 'string', '公司地址', '辦公室地址', NULL, TRUE, '2024-01-01T00:00:00'),
    (1, 'contact', 'line_id', '@vendorA', 'string', 'LINE 官方帳號', 'LINE 官方帳號 ID', NULL, TRUE, '2024-01-01T00:00:00'),
    (2, 'payment', 'payment_day', '5', 'number', '繳費日期', '每月繳費日期', '號', TRUE, '2024-01-01T00:00:00'),
    (2, 'payment', 'late_fee', '300', 'number', '逾期手續費', '逾期繳費手續費', '元', TRUE, '2024-01-01T00:00:00'),
    (2, 'payment', 'payment_method', '銀行轉帳、信用卡', 'string', '繳費方式', '可使用的繳費方式', NULL, TRUE, '2024-01-01T00:00:00'),
    (2, 'payment', 'grace_period', '3', 'number', '繳費寬限期', '逾期後的繳費寬限天數', '天', TRUE, '2024-01-01T00:00:00'),
    (2, 'contract', 'min_lease_period', '6', 'number', '最短租期', '最短租約期間', '月', TRUE, '2024-01-01T00:00:00'),
    (2, 'contract', 'deposit_months', '2', 'number', '押金月數', '押金相當於幾個月租金', '月', TRUE, '2024-01-01T00:00:00'),
    (2, 'contract', 'termination_notice_days', '60', 'number', '提前解約通知期', '提前解約需事先通知的天數', '天', TRUE, '2024-01-01T00:00:00'),
    (2, 'service', 'service_hotline', '02-8765-4321', 'string', '客服專線', '24小時客服專線', NULL, TRUE, '2024-01-01T00:00:00'),
    (2, 'service', 'service_hours', '週一至週五 09:00-18:00', 'string', '服務時間', '客服服務時間', NULL, TRUE, '2024-01-01T00:00:00'),
    (2, 'service', 'emergency_repair_hours', '2小時內回應', 'string', '緊急維修時效', '緊急報修處理時效', NULL, TRUE, '2024-01-01T00:00:00'),
    (2, 'contact', 'office_address', '台北市大安區仁愛路三段200號', 'string', '公司地址', '辦公室地址', NULL, TRUE, '2024-01-01T00:00:00'),
    (2, 'contact', 'line_id', '@vendorB', 'string', 'LINE 官方帳號', 'LINE 官方帳號 ID', NULL, TRUE, '2024-01-01T00:00:00');
