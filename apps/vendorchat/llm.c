/* SPDX-License-Identifier: MIT
 * llm.c - the optional OpenAI-compatible provider: POST {llm_url}/chat/completions with a
 * bearer key, used to classify a message and to polish an answer.
 * Owns: the prompts, parsing the provider's replies, the rule that a polished answer must
 * keep every injected vendor value verbatim.
 * Must not: fail a chat request (every error means "do without the LLM"), log the key or
 * message text, or accept an intent name that is not in the snapshot.
 */
#include <math.h>
#include <string.h>

#include "classify.h"

#define LLM_MAX_REPLY (1u << 20)
#define LLM_MAX_ANSWER 4000 /* bytes; a longer "polish" is not a polish */

bool vendorchat_llm_enabled(const struct vendorchat_state *st)
{
    return st && st->llm_url && st->llm_url[0];
}

static void llm_warn(const char *what, const char *detail)
{
    bt_log(BT_LOG_WARN, "llm provider failed", "step", what, "reason", detail, NULL);
}

/* One chat completion. *content gets the assistant's text (arena-owned). */
static int llm_call(struct bt_req *rq, const char *step, const char *system, const char *user,
                    const char **content, long *tokens)
{
    struct vendorchat_state *st = vendorchat_state(rq);
    const char *headers[3] = {NULL, NULL, NULL};
    struct bt_client_resp resp;
    struct bt_err e;
    size_t blen = strlen(st->llm_url);
    const char *url, *text;
    json_t *body, *usage;
    char status[16];
    int rc;

    *content = NULL;
    while (blen > 0 && st->llm_url[blen - 1] == '/')
        blen--;
    url = bt_arena_printf(rq->arena, "%.*s/chat/completions", (int)blen, st->llm_url);
    if (st->llm_key && st->llm_key[0])
        headers[0] = bt_arena_printf(rq->arena, "Authorization: Bearer %s", st->llm_key);
    body = bt_json_own(rq->arena, json_pack("{s:s,s:[{s:s,s:s},{s:s,s:s}],s:f}", "model",
                                            st->llm_model ? st->llm_model : "gpt-4o-mini",
                                            "messages", "role", "system", "content", system, "role",
                                            "user", "content", user, "temperature", 0.2));
    if (!body)
        return BT_EINTERNAL;
    bt_err_clear(&e);
    rc = bt_client_json(rq->arena, "POST", url, headers, body, st->llm_timeout_ms, LLM_MAX_REPLY,
                        &resp, &e);
    if (rc != BT_OK) {
        llm_warn(step, e.msg); /* the client's messages carry no secret */
        return BT_EUPSTREAM;
    }
    usage = json_object_get(json_object_get(resp.json, "usage"), "total_tokens");
    if (json_is_integer(usage) && json_integer_value(usage) > 0)
        *tokens += (long)json_integer_value(usage);
    if (resp.status < 200 || resp.status > 299) {
        snprintf(status, sizeof(status), "status %ld", resp.status);
        llm_warn(step, status);
        return BT_EUPSTREAM;
    }
    text = bt_json_str(resp.json, "/choices/0/message/content");
    if (!text) {
        llm_warn(step, "no choices[0].message.content");
        return BT_EUPSTREAM;
    }
    *content = text;
    return BT_OK;
}

/* ---- classification ---- */

static const char llm_classify_system[] =
    "You are the intent classifier of a customer-service chat for rental-management companies "
    "in Taiwan. Choose the primary intent of the tenant's message from the given list, and up "
    "to two secondary intents. If no intent fits, the primary intent is \"unclear\". Reply "
    "with one JSON object only: {\"primary_intent\": \"<name or unclear>\", "
    "\"secondary_intents\": [\"<name>\"], \"confidence\": <number 0..1>}.";

/* The first {...} in text (models like to wrap JSON in prose or code fences). */
static json_t *llm_json_object(const char *text)
{
    const char *a = strchr(text, '{'), *b = strrchr(text, '}');

    if (!a || !b || b < a)
        return NULL;
    return bt_json_parse(a, (size_t)(b - a + 1), NULL);
}

static const struct vendorchat_intent *llm_intent(const struct vendorchat_snap *s, const char *name)
{
    size_t n;
    const struct vendorchat_intent *is = vendorchat_snap_intents(s, &n);

    for (size_t i = 0; name && i < n; i++) {
        if (is[i].enabled && strcmp(is[i].name, name) == 0)
            return &is[i];
    }
    return NULL;
}

int vendorchat_llm_classify(struct bt_req *rq, const struct vendorchat_snap *s, const char *message,
                            struct vendorchat_class *out, long *tokens)
{
    size_t n;
    const struct vendorchat_intent *is = vendorchat_snap_intents(s, &n);
    const struct vendorchat_intent *primary;
    const char *content, *name;
    struct bt_buf user;
    json_t *j, *conf, *sec, *el;
    double confidence = 0.9;
    size_t i;
    int rc;

    memset(out, 0, sizeof(*out));
    bt_buf_init(&user, rq->arena, 1024);
    bt_buf_adds(&user, "Intents:\n");
    for (i = 0; i < n; i++) {
        if (!is[i].enabled)
            continue;
        bt_buf_addf(&user, "- %s (%s): %s\n", is[i].name, is[i].type,
                    is[i].description ? is[i].description : "");
    }
    bt_buf_addf(&user, "\nMessage: %s", message);
    rc = llm_call(rq, "classify", llm_classify_system, user.p, &content, tokens);
    if (rc != BT_OK)
        return rc;
    j = bt_json_own(rq->arena, llm_json_object(content));
    name = json_string_value(json_object_get(j, "primary_intent"));
    if (!name) {
        llm_warn("classify", "reply without primary_intent");
        return BT_EUPSTREAM;
    }
    conf = json_object_get(j, "confidence");
    if (json_is_number(conf))
        confidence = fmin(1.0, fmax(0.0, json_number_value(conf)));
    out->confidence = confidence;
    if (strcmp(name, "unclear") == 0)
        return BT_OK;
    if (!(primary = llm_intent(s, name))) {
        llm_warn("classify", "unknown intent name");
        return BT_EUPSTREAM;
    }
    if (confidence < primary->threshold)
        return BT_OK; /* the provider is unsure: unclear, as with the built-in scorer */
    out->primary = primary;
    sec = json_object_get(j, "secondary_intents");
    json_array_foreach(sec, i, el)
    {
        const struct vendorchat_intent *it = llm_intent(s, json_string_value(el));
        bool dup = it == primary;

        for (size_t k = 0; k < out->nsecondary; k++)
            dup = dup || out->secondary[k] == it;
        if (it && !dup && out->nsecondary < VENDORCHAT_MAX_SECONDARY)
            out->secondary[out->nsecondary++] = it;
    }
    return BT_OK;
}

/* ---- polish ---- */

static const char llm_polish_system[] =
    "你是包租代管公司的客服助理。請把「原始答案」改寫成自然、親切的繁體中文回覆租客的問題。"
    "必須逐字保留原始答案中的所有數字、日期、金額、期間、電話、地址與帳號（包含數字與單位之間的空格"
    "），"
    "不可新增原始答案沒有的資訊。只輸出改寫後的答案。";

bool vendorchat_llm_keeps_values(const char *text, const char *const *values, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (values[i] && values[i][0] && !strstr(text, values[i]))
            return false;
    }
    return true;
}

int vendorchat_llm_polish(struct bt_req *rq, const char *message, const char *answer,
                          const char *const *values, size_t nvalues, char **polished, long *tokens)
{
    const char *content, *b, *e;
    char *text;
    int rc;

    *polished = NULL;
    rc = llm_call(rq, "polish", llm_polish_system,
                  bt_arena_printf(rq->arena, "租客問題：%s\n原始答案：%s", message, answer),
                  &content, tokens);
    if (rc != BT_OK)
        return rc;
    /* trim white space around the reply */
    b = content;
    while (*b == ' ' || *b == '\n' || *b == '\r' || *b == '\t')
        b++;
    e = b + strlen(b);
    while (e > b && (e[-1] == ' ' || e[-1] == '\n' || e[-1] == '\r' || e[-1] == '\t'))
        e--;
    if (e == b || (size_t)(e - b) > LLM_MAX_ANSWER) {
        llm_warn("polish", "empty or oversized reply");
        return BT_EUPSTREAM;
    }
    text = bt_arena_strndup(rq->arena, b, (size_t)(e - b));
    if (bt_utf8_len(text, strlen(text)) < 0) {
        llm_warn("polish", "reply is not UTF-8");
        return BT_EUPSTREAM;
    }
    /* A rewrite that lost or altered a vendor's value would tell the tenant something wrong
     * (a different fee, another hotline): keep the template's answer instead. */
    if (!vendorchat_llm_keeps_values(text, values, nvalues)) {
        bt_log(BT_LOG_INFO, "llm polish rejected", "reason", "vendor value not kept", NULL);
        return BT_EINVAL;
    }
    *polished = text;
    return BT_OK;
}
