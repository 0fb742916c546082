-- SPDX-License-Identifier: MIT
-- 0002_knowledge.sql - vendorchat intents, knowledge (global templates and vendor rows), their
-- intent mapping, questions nobody could answer, and the knowledge generation counter
-- (docs: shared/spec/vendorchat.md, "Data", "Seed data", "The message pipeline").
-- Portable subset (SQLite >= 3.35 and PostgreSQL 15): TEXT/BIGINT/DOUBLE PRECISION/BOOLEAN,
-- {{ID}} keys, CHECK constraints for enums, ISO-8601 TEXT timestamps written by C.
-- keywords columns hold a JSON array of strings. Seed rows are inserted without ids (so the
-- PostgreSQL identity sequence stays in step) and linked by name through sub-queries.
-- Knowledge answers are templates: {{param_key}} is filled from the vendor's configs.

CREATE TABLE vendorchat_intents (
    id                   {{ID}},
    name                 TEXT NOT NULL UNIQUE,
    type                 TEXT NOT NULL DEFAULT 'knowledge'
                         CHECK (type IN ('knowledge', 'data_query', 'action', 'hybrid')),
    description          TEXT,
    keywords             TEXT NOT NULL DEFAULT '[]',
    confidence_threshold DOUBLE PRECISION NOT NULL DEFAULT 0.5,
    is_enabled           BOOLEAN NOT NULL DEFAULT TRUE,
    priority             BIGINT NOT NULL DEFAULT 0,
    usage_count          BIGINT NOT NULL DEFAULT 0,
    last_used_at         TEXT,
    created_at           TEXT NOT NULL,
    updated_at           TEXT
);

CREATE TABLE vendorchat_knowledge (
    id               {{ID}},
    question_summary TEXT NOT NULL,
    answer           TEXT NOT NULL,
    category         TEXT,
    audience         TEXT,
    keywords         TEXT NOT NULL DEFAULT '[]',
    vendor_id        BIGINT REFERENCES vendorchat_vendors (id) ON DELETE CASCADE,
    scope            TEXT NOT NULL DEFAULT 'global'
                     CHECK (scope IN ('global', 'vendor', 'customized')),
    priority         BIGINT NOT NULL DEFAULT 0,
    is_template      BOOLEAN NOT NULL DEFAULT TRUE,
    is_active        BOOLEAN NOT NULL DEFAULT TRUE,
    created_at       TEXT NOT NULL,
    updated_at       TEXT,
    -- a global row belongs to nobody; vendor and customized rows to exactly one vendor
    CHECK ((scope = 'global' AND vendor_id IS NULL) OR (scope <> 'global' AND vendor_id IS NOT NULL))
);
CREATE INDEX vendorchat_knowledge_vendor ON vendorchat_knowledge (vendor_id);

CREATE TABLE vendorchat_knowledge_intents (
    knowledge_id BIGINT NOT NULL REFERENCES vendorchat_knowledge (id) ON DELETE CASCADE,
    intent_id    BIGINT NOT NULL REFERENCES vendorchat_intents (id) ON DELETE CASCADE,
    kind         TEXT NOT NULL DEFAULT 'primary' CHECK (kind IN ('primary', 'secondary')),
    PRIMARY KEY (knowledge_id, intent_id)
);
CREATE INDEX vendorchat_knowledge_intents_intent ON vendorchat_knowledge_intents (intent_id);

CREATE TABLE vendorchat_unanswered (
    id          {{ID}},
    vendor_id   BIGINT NOT NULL REFERENCES vendorchat_vendors (id) ON DELETE CASCADE,
    message     TEXT NOT NULL,
    intent_name TEXT,
    session_id  TEXT,
    user_id     TEXT,
    created_at  TEXT NOT NULL
);
CREATE INDEX vendorchat_unanswered_vendor ON vendorchat_unanswered (vendor_id, id);

-- knowledge_gen: bumped by every knowledge or intent write (in the same transaction); each
-- bento instance rebuilds its in-memory index when the value differs from the one it built.
CREATE TABLE vendorchat_meta (
    key   TEXT PRIMARY KEY,
    value BIGINT NOT NULL
);
INSERT INTO vendorchat_meta (key, value) VALUES ('knowledge_gen', 1);

-- ---- intents: keywords are the words tenants actually type ----

INSERT INTO vendorchat_intents
    (name, type, description, keywords, confidence_threshold, is_enabled, priority, created_at)
VALUES
    ('退租流程', 'knowledge', '提前解約、退租通知期、點交與押金結算等退租流程說明',
     '["退租","解約","提前解約","提前退租","中途退租","終止租約","解除租約","不租了","不想租","不續租","搬走","搬出去","搬家","退房","通知期","提前通知","點交","退租手續","退租流程","違約金"]',
     0.5, TRUE, 5, '2024-01-01T00:00:00');
INSERT INTO vendorchat_intents
    (name, type, description, keywords, confidence_threshold, is_enabled, priority, created_at)
VALUES
    ('合約規定', 'knowledge', '租約條款、最短租期、押金、續約與轉租等合約規定',
     '["合約","租約","契約","合約規定","租約規定","條款","租期","最短租期","最少租","至少租","租多久","短租","押金","保證金","押幾個月","續約","轉租","簽約","養寵物","寵物"]',
     0.5, TRUE, 5, '2024-01-01T00:00:00');
INSERT INTO vendorchat_intents
    (name, type, description, keywords, confidence_threshold, is_enabled, priority, created_at)
VALUES
    ('設備使用', 'knowledge', '屋內設備與公共設施的使用方式及注意事項',
     '["設備","使用方式","怎麼用","怎麼開","操作","冷氣","熱水器","洗衣機","冰箱","網路","wifi","第四台","遙控器","瓦斯","電梯","垃圾","倒垃圾","門禁","磁扣"]',
     0.5, TRUE, 3, '2024-01-01T00:00:00');
INSERT INTO vendorchat_intents
    (name, type, description, keywords, confidence_threshold, is_enabled, priority, created_at)
VALUES
    ('服務說明', 'knowledge', '客服專線、服務時間、LINE 官方帳號與公司地址等聯絡資訊',
     '["客服","客服專線","客服電話","電話","專線","聯絡","聯繫","打電話","電話幾號","服務時間","營業時間","上班時間","客服時間","幾點","有人接","假日","line","加line","加賴","官方帳號","加好友","地址","公司地址","公司在哪","辦公室","臨櫃","據點","email","信箱"]',
     0.5, TRUE, 4, '2024-01-01T00:00:00');
INSERT INTO vendorchat_intents
    (name, type, description, keywords, confidence_threshold, is_enabled, priority, created_at)
VALUES
    ('租約查詢', 'data_query', '查詢個人租約內容、租約到期日與續約狀態',
     '["我的租約","租約到期","合約到期","到期日","租約內容","查租約","查合約","租約資料","合約期間","租到什麼時候","什麼時候到期"]',
     0.5, TRUE, 3, '2024-01-01T00:00:00');
INSERT INTO vendorchat_intents
    (name, type, description, keywords, confidence_threshold, is_enabled, priority, created_at)
VALUES
    ('帳務查詢', 'data_query', '租金繳費日、繳費方式、逾期手續費、寬限期與帳單查詢',
     '["繳費","租金","房租","帳單","逾期","繳費日","付款","繳租","交租","付租","繳房租","付房租","匯款","轉帳","刷卡","信用卡","超商","繳錢","付錢","幾號繳","遲繳","晚繳","延遲繳費","手續費","滯納金","罰款","罰金","寬限期","寬限","收據","扣款","自動扣繳","水電費","管理費"]',
     0.5, TRUE, 6, '2024-01-01T00:00:00');
INSERT INTO vendorchat_intents
    (name, type, description, keywords, confidence_threshold, is_enabled, priority, created_at)
VALUES
    ('物件資訊', 'data_query', '物件地點、坪數、格局、房型與空房資訊',
     '["物件","房屋資訊","坪數","幾坪","格局","房型","套房","雅房","整層","空房","還有房間","有空房","車位","停車位","樓層","採光"]',
     0.5, TRUE, 2, '2024-01-01T00:00:00');
INSERT INTO vendorchat_intents
    (name, type, description, keywords, confidence_threshold, is_enabled, priority, created_at)
VALUES
    ('設備報修', 'action', '設備故障報修、維修進度與緊急維修',
     '["報修","維修","修理","修繕","壞了","壞掉","故障","不能用","不會動","漏水","滲水","停電","跳電","沒電","沒熱水","沒有熱水","不冷","馬桶","堵塞","塞住","不通","燈泡","門鎖","緊急維修","找誰修","叫人修","水管","水龍頭","滴水","冷氣壞了","熱水器壞了","冰箱壞了","洗衣機壞了"]',
     0.5, TRUE, 6, '2024-01-01T00:00:00');
INSERT INTO vendorchat_intents
    (name, type, description, keywords, confidence_threshold, is_enabled, priority, created_at)
VALUES
    ('預約看房', 'action', '預約看房、帶看與參觀物件',
     '["看房","預約看房","看屋","帶看","參觀","約看","預約參觀","看房子","賞屋","現場看"]',
     0.5, TRUE, 2, '2024-01-01T00:00:00');
INSERT INTO vendorchat_intents
    (name, type, description, keywords, confidence_threshold, is_enabled, priority, created_at)
VALUES
    ('退租查詢', 'hybrid', '查詢退租申請進度與押金退還狀態',
     '["退租進度","退租申請","退租狀態","押金退還","退押金","押金退回","押金還沒退","押金什麼時候退","退款進度"]',
     0.5, TRUE, 4, '2024-01-01T00:00:00');

-- ---- global knowledge (templates shared by every vendor) ----

INSERT INTO vendorchat_knowledge
    (question_summary, answer, category, audience, keywords, vendor_id, scope, priority,
     is_template, is_active, created_at)
VALUES
    ('每月繳費日期',
     '您的租金繳費日為每月 {{payment_day}}，請務必在期限前完成繳費。如果超過繳費日 {{grace_period}}仍未繳納，將加收 {{late_fee}}的逾期手續費。',
     'payment', 'tenant',
     '["繳費日","繳費日期","幾號繳","幾號要繳","幾號付","哪一天繳","什麼時候繳","何時繳","什麼時候付","交租","房租","租金","每個月","每月","付款日","繳款日","截止日"]',
     NULL, 'global', 0, TRUE, TRUE, '2024-01-01T00:00:00');
INSERT INTO vendorchat_knowledge
    (question_summary, answer, category, audience, keywords, vendor_id, scope, priority,
     is_template, is_active, created_at)
VALUES
    ('繳費方式有哪些',
     '目前提供的繳費方式有：{{payment_method}}。請於每月 {{payment_day}}前完成繳費，如需協助請撥打客服專線 {{service_hotline}}。',
     'payment', 'tenant',
     '["繳費方式","付款方式","付費方式","怎麼繳","如何繳","繳費管道","匯款","轉帳","刷卡","信用卡","超商","便利商店","atm","現金","付款","繳錢","付錢"]',
     NULL, 'global', 0, TRUE, TRUE, '2024-01-01T00:00:00');
INSERT INTO vendorchat_knowledge
    (question_summary, answer, category, audience, keywords, vendor_id, scope, priority,
     is_template, is_active, created_at)
VALUES
    ('逾期繳費會怎樣',
     '租金請於每月 {{payment_day}}前繳納。超過繳費日 {{grace_period}}的寬限期仍未繳納，將加收 {{late_fee}}的逾期手續費；長期未繳將依租約規定處理。',
     'payment', 'tenant',
     '["逾期","逾期繳費","遲繳","晚繳","延遲繳費","晚繳房租","遲交","晚交","晚付","遲付","沒準時繳","拖欠","欠租","沒繳","忘了繳","忘記繳","罰款","罰金","罰多少","要罰","滯納金","手續費","逾期費","逾期手續費"]',
     NULL, 'global', 0, TRUE, TRUE, '2024-01-01T00:00:00');
INSERT INTO vendorchat_knowledge
    (question_summary, answer, category, audience, keywords, vendor_id, scope, priority,
     is_template, is_active, created_at)
VALUES
    ('繳費寬限期有幾天',
     '繳費日後有 {{grace_period}}的寬限期，寬限期內完成繳費不會收取手續費；超過寬限期仍未繳納，將加收 {{late_fee}}的逾期手續費。',
     'payment', 'tenant',
     '["寬限期","寬限","緩衝","可以晚","晚幾天","晚一點繳","延後繳","延後","拖幾天","寬限幾天"]',
     NULL, 'global', 0, TRUE, TRUE, '2024-01-01T00:00:00');
INSERT INTO vendorchat_knowledge
    (question_summary, answer, category, audience, keywords, vendor_id, scope, priority,
     is_template, is_active, created_at)
VALUES
    ('最短租期是多久',
     '最短租期為 {{min_lease_period}}，租約期滿可依規定辦理續約。未滿租期提前解約，請於 {{termination_notice_days}}前提出。',
     'contract', 'tenant',
     '["最短租期","租期","最少租","至少租","最少要租","租多久","要租多久","短租","最短","簽多久","租幾個月","最低租期"]',
     NULL, 'global', 0, TRUE, TRUE, '2024-01-01T00:00:00');
INSERT INTO vendorchat_knowledge
    (question_summary, answer, category, audience, keywords, vendor_id, scope, priority,
     is_template, is_active, created_at)
VALUES
    ('押金是多少',
     '押金為 {{deposit_months}}租金，於簽約時繳納；租約期滿並完成點交後，押金將無息退還。',
     'contract', 'tenant',
     '["押金","保證金","押租金","押幾個月","押金多少","押金幾個月","擔保金"]',
     NULL, 'global', 0, TRUE, TRUE, '2024-01-01T00:00:00');
INSERT INTO vendorchat_knowledge
    (question_summary, answer, category, audience, keywords, vendor_id, scope, priority,
     is_template, is_active, created_at)
VALUES
    ('提前解約怎麼辦',
     '如需提前解約，請於 {{termination_notice_days}}前以書面或致電客服專線 {{service_hotline}} 通知，並依租約約定辦理點交及押金結算。',
     'contract', 'tenant',
     '["提前解約","提前退租","中途退租","解約","退租","不租了","不想租","搬走","搬出去","搬家","違約","違約金","終止租約","解除租約"]',
     NULL, 'global', 0, TRUE, TRUE, '2024-01-01T00:00:00');
INSERT INTO vendorchat_knowledge
    (question_summary, answer, category, audience, keywords, vendor_id, scope, priority,
     is_template, is_active, created_at)
VALUES
    ('退租要提前多久通知',
     '退租或提前解約請至少於 {{termination_notice_days}}前通知我們，可撥打客服專線 {{service_hotline}} 或透過官方 LINE {{line_id}} 辦理。',
     'contract', 'tenant',
     '["通知期","提前通知","提前多久","多久前","幾天前","預告","事先通知","先講","先說"]',
     NULL, 'global', 0, TRUE, TRUE, '2024-01-01T00:00:00');
INSERT INTO vendorchat_knowledge
    (question_summary, answer, category, audience, keywords, vendor_id, scope, priority,
     is_template, is_active, created_at)
VALUES
    ('押金什麼時候退還',
     '租約期滿並完成點交後，押金（{{deposit_months}}租金）將於結算後無息退還；如有疑問請洽客服專線 {{service_hotline}}。',
     'contract', 'tenant',
     '["押金退還","退押金","押金退回","押金還沒退","押金什麼時候退","押金何時退","拿回押金","押金拿回"]',
     NULL, 'global', 0, TRUE, TRUE, '2024-01-01T00:00:00');
INSERT INTO vendorchat_knowledge
    (question_summary, answer, category, audience, keywords, vendor_id, scope, priority,
     is_template, is_active, created_at)
VALUES
    ('客服專線是多少',
     '客服專線：{{service_hotline}}，服務時間：{{service_hours}}。',
     'service', 'tenant',
     '["客服","客服專線","客服電話","電話","專線","聯絡電話","電話幾號","電話號碼","打電話","聯絡","聯繫","打給"]',
     NULL, 'global', 0, TRUE, TRUE, '2024-01-01T00:00:00');
INSERT INTO vendorchat_knowledge
    (question_summary, answer, category, audience, keywords, vendor_id, scope, priority,
     is_template, is_active, created_at)
VALUES
    ('客服服務時間',
     '客服服務時間為 {{service_hours}}，客服專線 {{service_hotline}}；非服務時間可透過官方 LINE {{line_id}} 留言。',
     'service', 'tenant',
     '["服務時間","營業時間","上班時間","客服時間","幾點","有人接","假日","週末","上班","下班","開門","關門"]',
     NULL, 'global', 0, TRUE, TRUE, '2024-01-01T00:00:00');
INSERT INTO vendorchat_knowledge
    (question_summary, answer, category, audience, keywords, vendor_id, scope, priority,
     is_template, is_active, created_at)
VALUES
    ('如何報修',
     '設備故障請撥打客服專線 {{service_hotline}} 或透過官方 LINE {{line_id}} 報修，並提供照片與方便維修的時間。緊急維修服務：{{emergency_repair_hours}}。',
     'repair', 'tenant',
     '["報修","維修","修理","修繕","壞了","壞掉","故障","不能用","不會動","找誰修","叫人修","怎麼修","損壞","東西壞","冷氣壞了","熱水器壞了","冰箱壞了","洗衣機壞了","燈壞了","門鎖壞了","不冷","沒熱水","沒有熱水","塞住","堵塞","不通","滴水","水龍頭","馬桶","故障了"]',
     NULL, 'global', 0, TRUE, TRUE, '2024-01-01T00:00:00');
INSERT INTO vendorchat_knowledge
    (question_summary, answer, category, audience, keywords, vendor_id, scope, priority,
     is_template, is_active, created_at)
VALUES
    ('緊急維修',
     '遇到漏水、停電等緊急狀況，請立即撥打客服專線 {{service_hotline}}，緊急維修服務：{{emergency_repair_hours}}。',
     'repair', 'tenant',
     '["緊急","緊急維修","急修","半夜","漏水","淹水","停電","跳電","沒電","沒水","瓦斯","24小時"]',
     NULL, 'global', 0, TRUE, TRUE, '2024-01-01T00:00:00');
INSERT INTO vendorchat_knowledge
    (question_summary, answer, category, audience, keywords, vendor_id, scope, priority,
     is_template, is_active, created_at)
VALUES
    ('官方LINE帳號',
     '歡迎加入我們的官方 LINE：{{line_id}}，可線上詢問、報修及查詢帳務。',
     'contact', 'tenant',
     '["line","官方line","line帳號","lineid","加line","加賴","官方賴","官方帳號","加好友","線上客服","line@"]',
     NULL, 'global', 0, TRUE, TRUE, '2024-01-01T00:00:00');
INSERT INTO vendorchat_knowledge
    (question_summary, answer, category, audience, keywords, vendor_id, scope, priority,
     is_template, is_active, created_at)
VALUES
    ('公司地址在哪裡',
     '公司地址：{{office_address}}，臨櫃服務時間為 {{service_hours}}，來訪前建議先撥打 {{service_hotline}} 預約。',
     'contact', 'tenant',
     '["地址","公司地址","公司在哪","辦公室","公司位置","怎麼去","臨櫃","親自","據點","門市","去公司","公司"]',
     NULL, 'global', 0, TRUE, TRUE, '2024-01-01T00:00:00');

-- ---- vendor rows: vendor 1 customizes the hotline answer, vendor 2 adds a card payment note

INSERT INTO vendorchat_knowledge
    (question_summary, answer, category, audience, keywords, vendor_id, scope, priority,
     is_template, is_active, created_at)
VALUES
    ('客服專線是多少',
     '甲山林客服專線：{{service_hotline}}（{{service_hours}}），也歡迎加入官方 LINE {{line_id}} 線上諮詢。',
     'service', 'tenant',
     '["客服","客服專線","客服電話","電話","專線","聯絡電話","電話幾號","電話號碼","打電話","聯絡","聯繫","打給"]',
     (SELECT id FROM vendorchat_vendors WHERE code = 'VENDOR_A'), 'customized', 10, TRUE, TRUE,
     '2024-01-01T00:00:00');
INSERT INTO vendorchat_knowledge
    (question_summary, answer, category, audience, keywords, vendor_id, scope, priority,
     is_template, is_active, created_at)
VALUES
    ('信用卡繳費說明',
     '信義包租代管提供信用卡繳費服務。目前可用的繳費方式：{{payment_method}}，請於每月 {{payment_day}}前完成繳費，刷卡相關問題請洽客服專線 {{service_hotline}}。',
     'payment', 'tenant',
     '["信用卡","刷卡","信用卡繳費","刷卡繳租","線上刷卡","刷信用卡","分期"]',
     (SELECT id FROM vendorchat_vendors WHERE code = 'VENDOR_B'), 'vendor', 5, TRUE, TRUE,
     '2024-01-01T00:00:00');

-- ---- mappings (question, scope) -> intent ----

INSERT INTO vendorchat_knowledge_intents (knowledge_id, intent_id, kind)
SELECT k.id, i.id, 'primary' FROM vendorchat_knowledge k, vendorchat_intents i
WHERE i.name = '帳務查詢'
  AND k.question_summary IN ('每月繳費日期', '繳費方式有哪些', '逾期繳費會怎樣', '繳費寬限期有幾天',
                             '信用卡繳費說明');
INSERT INTO vendorchat_knowledge_intents (knowledge_id, intent_id, kind)
SELECT k.id, i.id, 'primary' FROM vendorchat_knowledge k, vendorchat_intents i
WHERE i.name = '合約規定' AND k.question_summary IN ('最短租期是多久', '押金是多少');
INSERT INTO vendorchat_knowledge_intents (knowledge_id, intent_id, kind)
SELECT k.id, i.id, 'primary' FROM vendorchat_knowledge k, vendorchat_intents i
WHERE i.name = '退租流程'
  AND k.question_summary IN ('提前解約怎麼辦', '退租要提前多久通知', '押金什麼時候退還');
INSERT INTO vendorchat_knowledge_intents (knowledge_id, intent_id, kind)
SELECT k.id, i.id, 'secondary' FROM vendorchat_knowledge k, vendorchat_intents i
WHERE i.name = '合約規定' AND k.question_summary = '提前解約怎麼辦';
INSERT INTO vendorchat_knowledge_intents (knowledge_id, intent_id, kind)
SELECT k.id, i.id, 'secondary' FROM vendorchat_knowledge k, vendorchat_intents i
WHERE i.name = '退租查詢' AND k.question_summary = '押金什麼時候退還';
INSERT INTO vendorchat_knowledge_intents (knowledge_id, intent_id, kind)
SELECT k.id, i.id, 'primary' FROM vendorchat_knowledge k, vendorchat_intents i
WHERE i.name = '服務說明'
  AND k.question_summary IN ('客服專線是多少', '客服服務時間', '官方LINE帳號', '公司地址在哪裡');
INSERT INTO vendorchat_knowledge_intents (knowledge_id, intent_id, kind)
SELECT k.id, i.id, 'primary' FROM vendorchat_knowledge k, vendorchat_intents i
WHERE i.name = '設備報修' AND k.question_summary IN ('如何報修', '緊急維修');
INSERT INTO vendorchat_knowledge_intents (knowledge_id, intent_id, kind)
SELECT k.id, i.id, 'secondary' FROM vendorchat_knowledge k, vendorchat_intents i
WHERE i.name = '設備使用' AND k.question_summary = '如何報修';
