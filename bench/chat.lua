-- wrk script: POST /chat/v1/message with the document's question to vendor 1
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"message":"每月繳費日期是什麼時候？","vendor_id":1,"mode":"tenant","include_sources":true}'
