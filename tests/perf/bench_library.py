"""调解案例 / 问答 search benchmark (make bench): issue #15 — the search answers in < 200 ms median
over 100,000 typical/closed cases and 10,000 Q&A entries, on PostgreSQL.

    .venv/bin/python tests/perf/bench_library.py [--cases 100000] [--qa 10000] [--rounds 3]

Database: BENCH_LIBRARY_DATABASE_URL, else postgres://postgres@127.0.0.1:5432/mdtj_bench_library
(created and migrated when missing). The index rows are synthetic dispute descriptions (ten
dispute families, several wordings each, random places, amounts and details), tokenised with the
same jieba code as the application and written with COPY once; reruns reuse them. Measured:
``library.search.search`` as a community mediator (typical cases + the closed cases of the
community), a district user (the whole district) and the H5 Q&A search, for 20 free-text queries
each, ``--rounds`` times; the table gives wall-clock medians and p95. Exit status 0 only when
every median is under the target.
"""
from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from pathlib import Path

PERF_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(PERF_DIR))
DEFAULT_DB_URL = "postgres://postgres@127.0.0.1:5432/mdtj_bench_library"
TARGET_MS = 200.0

FAMILIES = {
    "neighbor": ["楼上卫生间漏水导致楼下天花板渗水发霉", "邻居装修噪音扰民影响休息", "广场舞音响声音过大晚上扰民",
                 "楼道堆放杂物占用公共通道", "宠物狗未拴绳咬伤邻居老人", "楼前大树遮挡采光要求修剪"],
    "housing": ["宅基地界址不清建房占地引发争吵", "房屋租赁押金不退", "二手房买卖过户后发现漏水"],
    "labor_wage": ["包工头拖欠农民工工资", "工厂停工后拖欠工人加班费", "快递员工伤赔偿协商不成"],
    "property_mgmt": ["业主拒交物业费称服务质量差", "电梯经常故障物业维修不及时", "小区车位被他人长期占用"],
    "marriage_family": ["离婚后子女抚养费未按约定支付", "赡养老人费用兄弟姐妹分担争议", "遗产继承房屋分割纠纷"],
    "consumer": ["预付卡健身房倒闭无法退费", "网购商品质量问题商家拒绝退货", "装修公司延期交付质量不合格"],
    "traffic": ["电动车与行人碰撞医药费赔偿", "停车场车辆刮擦责任认定"],
    "debt": ["朋友借款逾期未还要求还本付息", "合伙做生意亏损分摊争议"],
    "land": ["土地承包经营权流转租金拖欠", "山林界址争议砍伐树木"],
    "school": ["学生在校受伤医疗费承担", "校外培训机构退费纠纷"],
}
DETAILS = ["双方多次协商未果", "当事人情绪激动", "社区网格员上门了解情况", "涉及金额约{n}元", "已持续{m}个月",
           "一方提出赔偿要求", "物业和居委会介入协调", "调解员组织双方面对面沟通", "要求对方书面道歉",
           "一方表示愿意分期支付", "涉及{k}户居民", "曾拨打12345热线反映", "派出所出警后移交调解",
           "双方同意由第三方评估损失", "约定一周内完成维修"]
PLACES = ["东湖街道", "西溪街道", "湖滨社区", "溪口社区", "城南村", "北苑小区", "滨江花园", "工业园区"]
QA_TOPICS = ["台账", "报表", "督查检查", "考核", "微信群", "会议", "证明事项", "挂牌", "填报", "打卡", "留痕",
             "调解协议", "司法确认", "回访", "网格", "信访", "值班", "数据共享", "一表通", "政务APP"]
CASE_QUERIES = ["家里天花板被楼上漏水泡坏了要赔偿", "包工头欠农民工工资不给", "晚上跳广场舞太吵",
                "离婚以后对方不给孩子抚养费", "村里两家宅基地界址争吵", "我的车位被别人占了", "狗咬伤人医药费谁出",
                "邻居的树挡住采光", "借给朋友的钱逾期不还", "电梯老坏不想交物业费", "健身房倒闭预付卡退费",
                "电动车撞了人怎么赔", "装修噪音影响休息", "租房押金不退", "工伤赔偿协商不成", "学生在学校受伤谁负责",
                "遗产继承房子怎么分", "网购质量问题不给退货", "土地流转租金拖欠", "楼道堆放杂物"]
QA_QUERIES = ["台账太多怎么办", "重复填报", "督查检查能合并吗", "微信群打卡", "会议太多", "社区开证明",
              "调解协议司法确认", "报表能不能减", "考核看什么", "挂牌太多", "留痕要求", "一表通怎么用", "信访值班",
              "数据共享", "网格员填报", "政务APP下载", "回访怎么做", "值班安排", "证明事项清单", "考核材料"]


def synth_case(rng: random.Random) -> tuple[str, str, str]:
    case_type = rng.choice(list(FAMILIES))
    core = rng.choice(FAMILIES[case_type])
    place = rng.choice(PLACES)
    details = "，".join(d.format(n=rng.randint(2, 200) * 100, m=rng.randint(1, 24), k=rng.randint(2, 40))
                       for d in rng.sample(DETAILS, rng.randint(2, 4)))
    title = f"{place}{core[:rng.randint(6, len(core))]}"
    body = f"{place}{core}，{details}。调解员依法释理，最终达成协议。"
    return case_type, title, body


def synth_qa(rng: random.Random, i: int) -> tuple[str, str]:
    a, b = rng.sample(QA_TOPICS, 2)
    return (f"{a}和{b}方面的第{i}个问题：基层如何减负？",
            f"关于{a}，按区里清单执行，清单外的不再要求；{b}方面实行备案管理，不得层层加码。")


def load_index(cases: int, qa: int, seed: int = 20261207) -> dict:
    from django.db import connection, transaction

    from library import search
    from library.models import SearchDoc, SearchToken
    from orgs.models import Region

    have = {k: SearchDoc.objects.filter(kind=k).count() for k in ("typical", "case", "qa")}
    if have["typical"] + have["case"] >= cases and have["qa"] >= qa:
        return {"loaded": 0, "seconds": 0.0, **have}
    SearchToken.objects.all().delete()
    SearchDoc.objects.all().delete()
    paths = list(Region.objects.filter(level=3).values_list("path", flat=True))
    rng = random.Random(seed)
    t0 = time.perf_counter()
    items = []
    for i in range(cases):
        case_type, title, body = synth_case(rng)
        kind = "typical" if i % 10 == 0 else "case"   # one in ten is a typical case
        items.append((kind, i + 1, {"title": title, "body": body, "region_path": rng.choice(paths),
                                    "case_type": case_type, "mediation_type": "people", "summary": body[:300]}))
    for i in range(qa):
        question, answer = synth_qa(rng, i)
        items.append(("qa", i + 1, {"title": question, "body": answer, "case_type": str(i % 8), "summary": answer}))
    doc_cols = ["id", "kind", "ref_id", "region_path", "case_type", "mediation_type", "tags", "title", "summary",
                "length"]
    tok_cols = ["token", "doc_id", "kind", "region_path", "weight"]
    with transaction.atomic(), connection.cursor() as cur:
        raw = cur.connection.cursor()
        for start in range(0, len(items), 5000):
            docs, toks = [], []
            for offset, (kind, ref_id, fields) in enumerate(items[start:start + 5000]):
                doc, rows = search.doc_rows(kind, ref_id, **fields)
                pk = start + offset + 1
                docs.append((pk, doc.kind, doc.ref_id, doc.region_path, doc.case_type, doc.mediation_type, doc.tags,
                             doc.title, doc.summary, doc.length))
                toks += [(r.token, pk, r.kind, r.region_path, r.weight) for r in rows]
            with raw.copy(f"COPY library_searchdoc ({', '.join(doc_cols)}) FROM STDIN") as cp:
                for row in docs:
                    cp.write_row(row)
            with raw.copy(f"COPY library_searchtoken ({', '.join(tok_cols)}) FROM STDIN") as cp:
                for row in toks:
                    cp.write_row(row)
            print(f"  {start + len(docs):,} documents", flush=True)
        cur.execute("SELECT setval(pg_get_serial_sequence('library_searchdoc', 'id'), (SELECT max(id) FROM library_searchdoc))")
    with connection.cursor() as cur:
        cur.execute("ANALYZE library_searchdoc")
        cur.execute("ANALYZE library_searchtoken")
    return {"loaded": len(items), "seconds": round(time.perf_counter() - t0, 1),
            "tokens": SearchToken.objects.count()}


def measure(user, queries, kinds, rounds: int) -> list[float]:
    from library import search

    search.search(queries[0], user, kinds=kinds)  # warm: jieba dictionary, connection
    out = []
    for _ in range(rounds):
        for q in queries:
            t = time.perf_counter()
            hits = search.search(q, user, kinds=kinds, limit=20)
            out.append((time.perf_counter() - t) * 1000)
            assert hits, q
    return out


def measure_together(user, queries, kinds, rounds: int, users: int) -> list[float]:
    """``users`` searching at the same moment (one thread and database connection each, as one
    gunicorn worker's threads): every request's own latency."""
    import threading

    from django.db import connection

    out, lock = [], threading.Lock()

    def one():
        try:
            ms = measure(user, queries, kinds, rounds)
            with lock:
                out.extend(ms)
        finally:
            connection.close()

    threads = [threading.Thread(target=one) for _ in range(users)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return out


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--qa", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--users", type=int, default=4, help="concurrent searchers for the '同时' rows")
    args = parser.parse_args()

    import os

    os.environ["DATABASE_URL"] = os.environ.get("BENCH_LIBRARY_DATABASE_URL") or DEFAULT_DB_URL
    import bench

    url = bench.prepare_environment()
    bench.ensure_postgres_database(url)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
    bench.load_world("Bench@library-2026")
    print(f"index: {args.cases:,} typical/closed cases + {args.qa:,} Q&A …", flush=True)
    loaded = load_index(args.cases, args.qa)
    from accounts.models import User

    mediator, district = User.objects.get(username="demo_mediator"), User.objects.get(username="demo_district")
    rows, ok = [], True
    for name, user, queries, kinds in [("案例检索（社区调解员）", mediator, CASE_QUERIES, ("typical", "case")),
                                       ("案例检索（区级）", district, CASE_QUERIES, ("typical", "case")),
                                       ("类似案例参考（典型案例）", mediator, CASE_QUERIES, ("typical",)),
                                       ("基层减负问答（H5）", mediator, QA_QUERIES, ("qa",)),
                                       (f"案例检索（区级，{args.users} 人同时）", district, CASE_QUERIES, ("typical", "case")),
                                       (f"基层减负问答（{args.users} 人同时）", mediator, QA_QUERIES, ("qa",))]:
        if "同时" in name:
            ms = measure_together(user, queries, kinds, args.rounds, args.users)
        else:
            ms = measure(user, queries, kinds, args.rounds)
        med = statistics.median(ms)
        ok &= med < TARGET_MS
        rows.append([name, len(ms), f"{med:.1f}", f"{bench.percentile(ms, 95):.1f}", f"{max(ms):.1f}",
                     "ok" if med < TARGET_MS else "FAIL"])
    from library.models import SearchDoc, SearchToken

    print(f"\nPostgreSQL · documents {SearchDoc.objects.count():,} · index rows {SearchToken.objects.count():,} "
          f"· load {loaded}")
    print(bench.table(rows, ["search", "n", "median ms", "p95 ms", "max ms", f"< {TARGET_MS:.0f} ms"]))
    out = bench.BASE_DIR / "bench-output"
    out.mkdir(exist_ok=True)
    (out / "library_bench.json").write_text(json.dumps({"rows": rows, "load": loaded}, ensure_ascii=False, indent=1))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
