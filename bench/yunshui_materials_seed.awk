# bench/yunshui_materials_seed.awk - SQL that inserts N yunshui materials (benchmark data only;
# the API is the only writer in production). Portable SQL, for `bento sql` on either engine:
#   LC_ALL=C awk -v n=100000 -f bench/yunshui_materials_seed.awk | bento sql --db URL
# (not the sqlite3 shell: the materials' search index is kept by triggers that need bento's
# tokenizer, docs/DATABASE.md "Search indexes"; the triggers index every row as it goes in).
# Writes what materials.c writes: ids in UUID form, price in 1/10000 units, search_text as
# ASCII-folded name, specification and description joined by U+001F (LC_ALL=C keeps tolower
# to ASCII), timestamps as "2024-01-01T00:00:00.000Z", and finally a new revision stamp so
# no cached list total survives the import.
# About a third of the names contain 鋼 (the search the benchmark runs).
BEGIN {
  if (n == "") n = 100000
  split("不鏽鋼板 304|不鏽鋼板 316|碳鋼角鐵|鍍鋅鋼管|鋁合金板|鋁擠型|銅管|黃銅棒|" \
        "PVC 塑膠管|PE 塑膠板|強化玻璃|膠合玻璃|實木板|夾板|石膏板|矽酸鈣板|" \
        "Steel Plate|Steel Pipe|Aluminium Sheet|Copper Wire|H 型鋼|槽鋼|鋼筋 SD280|白鐵板", type, "|")
  split("不鏽鋼|不鏽鋼|碳鋼|鋼管|鋁|鋁|銅|銅|塑膠|塑膠|玻璃|玻璃|木材|木材|板材|板材|" \
        "steel|steel|aluminium|copper|型鋼|型鋼|鋼筋|不鏽鋼", cat, "|")
  split("片|片|支|支|片|支|支|支|支|片|片|片|片|片|片|片|sheet|pipe|sheet|roll|支|支|支|片", unit, "|")
  split("高品質材料，適用於各種工業用途|耐腐蝕，適合戶外與潮濕環境|Lightweight and easy to cut|" \
        "建築結構用，符合 CNS 標準|Food grade, polished finish|防火等級一級，室內裝修用|" \
        "進口原料，品質穩定|Heavy duty, for industrial frames", desc, "|")
  srand()
  nt = 24; nd = 8
  printf "BEGIN;\n"
  for (i = 0; i < n; i++) {
    k = i % nt
    name = type[k + 1] " #" i
    spec = "厚度 " (i % 20 + 1) "mm, 尺寸 " (1000 + (i % 5) * 200) "x" (2000 + (i % 3) * 400) "mm"
    d = desc[(int(i / nt) % nd) + 1] "，批號 B" (100000 + i)
    price = ((i * 7919) % 5000000) * 100 + (i % 97) # up to 500,000.0096 in 1/10000
    stock = i % 97
    minstock = i % 13 + 5
    s = i * 1000 + (i % 1000)                       # one material a second from 2024-01-01
    ts = sprintf("2024-01-%02dT%02d:%02d:%02d.%03dZ", int(s / 86400000) + 1,
                 int(s / 3600000) % 24, int(s / 60000) % 60, int(s / 1000) % 60, s % 1000)
    id = sprintf("%08x-%04x-4%03x-8%03x-%012x", i * 2654435761 % 4294967296, i % 65536,
                 i % 4096, (i * 7) % 4096, i)
    st = tolower(name) "\037" tolower(spec) "\037" tolower(d)
    if (i % 500 == 0)
      printf "%sINSERT INTO yunshui_materials (id, name, category, specification, unit, price," \
             " stock, min_stock, image_url, description, search_text, created_at, updated_at)" \
             " VALUES\n", (i ? ";\n" : "")
    else
      printf ",\n"
    printf "('%s','%s','%s','%s','%s',%d,%d,%d,NULL,'%s','%s','%s','%s')", id, name, cat[k + 1],
           spec, unit[k + 1], price, stock, minstock, d, st, ts, ts
  }
  printf ";\nUPDATE yunshui_materials_rev SET rev = %d WHERE id = 1;\nCOMMIT;\n",
         int(rand() * 2147483646) + 1
}
