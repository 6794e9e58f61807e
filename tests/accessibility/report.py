"""The accessibility test run's results, published as docs/accessibility.md (issue 16 item 11).

Every page the accessibility tests check is recorded here (which page, for whom, at what size, what
axe-core and our own browser checks found). ``pytest tests/accessibility --a11y-report
docs/accessibility.md`` then writes the 試験結果 (test results) in the manner JIS X 8341-3:2016 and
the 「ウェブコンテンツの JIS X 8341-3:2016 対応度表記ガイドライン」 describe: the standard and the
level aimed at, the date, the pages tested, and per success criterion how it was checked and the
result. The page is generated from the run, never written by hand.

Records go through files (one per test) because the tests run in several xdist workers; the
controller gathers them when the session ends.
"""
from __future__ import annotations

import json
import os
import re
import shutil
from collections import defaultdict
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

RESULTS_DIR = Path(__file__).resolve().parents[2] / "test-artifacts" / "a11y-results"

#: WCAG 2.0 success criteria (= JIS X 8341-3:2016 達成基準), levels A and AA, with their Japanese
#: titles (as the JIS and the WAIC translation name them).
CRITERIA = [
    ("1.1.1", "A", "非テキストコンテンツ"),
    ("1.2.1", "A", "音声のみ及び映像のみ（収録済み）"),
    ("1.2.2", "A", "キャプション（収録済み）"),
    ("1.2.3", "A", "音声解説、又はメディアに対する代替（収録済み）"),
    ("1.2.4", "AA", "キャプション（ライブ）"),
    ("1.2.5", "AA", "音声解説（収録済み）"),
    ("1.3.1", "A", "情報及び関係性"),
    ("1.3.2", "A", "意味のある順序"),
    ("1.3.3", "A", "感覚的な特徴"),
    ("1.4.1", "A", "色の使用"),
    ("1.4.2", "A", "音声の制御"),
    ("1.4.3", "AA", "コントラスト（最低限レベル）"),
    ("1.4.4", "AA", "テキストのサイズ変更"),
    ("1.4.5", "AA", "文字画像"),
    ("2.1.1", "A", "キーボード"),
    ("2.1.2", "A", "キーボードトラップなし"),
    ("2.2.1", "A", "タイミング調整可能"),
    ("2.2.2", "A", "一時停止、停止及び非表示"),
    ("2.3.1", "A", "3回のせん（閃）光、又はしきい（閾）値以下"),
    ("2.4.1", "A", "ブロックスキップ"),
    ("2.4.2", "A", "ページタイトル"),
    ("2.4.3", "A", "フォーカス順序"),
    ("2.4.4", "A", "リンクの目的（コンテキスト内）"),
    ("2.4.5", "AA", "複数の手段"),
    ("2.4.6", "AA", "見出し及びラベル"),
    ("2.4.7", "AA", "フォーカスの可視化"),
    ("3.1.1", "A", "ページの言語"),
    ("3.1.2", "AA", "一部分の言語"),
    ("3.2.1", "A", "フォーカス時"),
    ("3.2.2", "A", "入力時"),
    ("3.2.3", "AA", "一貫したナビゲーション"),
    ("3.2.4", "AA", "一貫した識別性"),
    ("3.3.1", "A", "エラーの特定"),
    ("3.3.2", "A", "ラベル又は説明"),
    ("3.3.3", "AA", "エラー修正の提案"),
    ("3.3.4", "AA", "エラー回避（法的、金融及びデータ）"),
    ("4.1.1", "A", "構文解析"),
    ("4.1.2", "A", "名前（name）、役割（role）及び値（value）"),
]

#: Criteria the site has nothing for (no audio, video, moving or flashing content).
NOT_APPLICABLE = {"1.2.1", "1.2.2", "1.2.3", "1.2.4", "1.2.5", "1.4.2", "2.3.1"}

ROLE_LABELS = {"booker": "予約する職員", "admin": "管理者（マイナンバー担当課）", "chief": "所属長",
               "clerk": "受付担当", "hq": "本部総務", "anonymous": "未ログイン"}


def _criterion(tag: str) -> str | None:
    """axe's tag ``wcag143`` as the criterion ``1.4.3`` (``wcag2aa`` and the like are not criteria)."""
    digits = tag[4:] if tag.startswith("wcag") else ""
    if len(digits) < 3 or not digits.isdigit():
        return None
    return f"{digits[0]}.{digits[1]}.{digits[2:]}"


def axe_summary(result: dict) -> dict:
    """What a report needs from axe's full result: each rule's outcome and the criteria it tests."""
    rules = {}
    for outcome in ("violations", "passes", "incomplete"):
        for rule in result.get(outcome, []):
            criteria = sorted({c for c in map(_criterion, rule["tags"]) if c})
            rules[rule["id"]] = {"outcome": outcome, "criteria": criteria, "impact": rule.get("impact"),
                                 "help": rule.get("help", ""), "nodes": len(rule.get("nodes", []))}
    return {"rules": rules, "axe": result.get("testEngine", {}).get("version", "")}


def enabled() -> bool:
    return RESULTS_DIR.is_dir()


def record(test_id: str, *, page: str, url: str, role: str, viewport: dict, lang: str,
           axe: dict | None = None, checks: dict[str, tuple[str, bool]] | None = None) -> None:
    """Keep one page's results for the report (a no-op unless the run writes one).

    ``checks`` maps a criterion to (what was checked, passed) for the browser checks axe cannot do.
    """
    if not enabled():
        return
    # The report names pages, not one run's secrets or ids: /i/<token>/sessions/3 → /i/{招待}/sessions/{id}.
    url = re.sub(r"^/i/[^/]+", "/i/{招待リンク}", url)
    url = re.sub(r"^/r/[^/]+", "/r/{予約の管理リンク}", url)
    url = re.sub(r"/\d+(?=/|$)", "/{id}", url)
    entry = {"page": page, "url": url, "role": role, "viewport": f"{viewport['width']}×{viewport['height']}",
             "lang": lang, "axe": axe, "checks": checks or {}}
    name = "".join(ch if ch.isalnum() else "_" for ch in test_id)[-120:]
    path = RESULTS_DIR / f"{name}.jsonl"
    with path.open("a", encoding="utf-8") as out:
        out.write(json.dumps(entry, ensure_ascii=False) + "\n")


def pytest_addoption(parser) -> None:
    parser.addoption("--a11y-report", metavar="PATH", default=None,
                     help="write the accessibility test results (JIS X 8341-3 試験結果) to PATH, "
                          "e.g. docs/accessibility.md, from this run's accessibility tests")


def pytest_configure(config) -> None:
    if not config.getoption("--a11y-report", None) or hasattr(config, "workerinput"):
        return
    shutil.rmtree(RESULTS_DIR, ignore_errors=True)
    RESULTS_DIR.mkdir(parents=True)


def pytest_sessionfinish(session, exitstatus) -> None:
    target = session.config.getoption("--a11y-report", None)
    if not target or hasattr(session.config, "workerinput"):
        return
    entries = []
    for path in sorted(RESULTS_DIR.glob("*.jsonl")):
        entries += [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    if not entries:
        return
    Path(target).write_text(render(entries, tested_on=datetime.now(ZoneInfo("Asia/Tokyo")),
                                   failed=bool(exitstatus)), encoding="utf-8")


def _result_of(criterion: str, entries: list[dict]) -> tuple[str, str, str]:
    """(how it was checked, result, note) for one criterion over every page."""
    if criterion in NOT_APPLICABLE:
        return "—", "適用除外", "音声・映像・動きのあるコンテンツがない"
    rules: dict[str, set[str]] = defaultdict(set)
    failures: list[str] = []
    checks: dict[str, bool] = {}
    for entry in entries:
        for rule, found in ((entry.get("axe") or {}).get("rules") or {}).items():
            if criterion not in found["criteria"]:
                continue
            rules[rule].add(found["outcome"])
            if found["outcome"] == "violations":
                failures.append(f"{entry['page']}（{ROLE_LABELS.get(entry['role'], entry['role'])}）: {rule}")
        for key, (what, passed) in (entry.get("checks") or {}).items():
            if key == criterion:
                checks[what] = checks.get(what, True) and passed
                if not passed:
                    failures.append(f"{entry['page']}（{ROLE_LABELS.get(entry['role'], entry['role'])}）: {what}")
    methods = []
    if rules:
        methods.append("axe-core: " + ", ".join(sorted(rules)))
    methods += [f"ブラウザー試験: {what}" for what in sorted(checks)]
    if not methods:
        return "人による確認", "自動試験の対象外", ""
    if failures:
        shown = "; ".join(dict.fromkeys(failures))
        return "<br>".join(methods), "不適合", shown[:400]
    tested = any("passes" in outcomes for outcomes in rules.values()) or bool(checks)
    if not tested:
        return "<br>".join(methods), "要確認", "自動試験では判定できなかった（人による確認）"
    note = "自動試験で問題なし（人による確認と併せて判断）"
    return "<br>".join(methods), "適合（自動試験）", note


def render(entries: list[dict], *, tested_on: datetime, failed: bool) -> str:
    axe_version = next(((e.get("axe") or {}).get("axe") for e in entries if (e.get("axe") or {}).get("axe")), "")
    pages: dict[tuple, dict] = {}
    for entry in entries:
        key = (entry["role"], entry["page"], entry["viewport"], entry["lang"])
        page = pages.setdefault(key, {**entry, "violations": set()})
        for rule, found in ((entry.get("axe") or {}).get("rules") or {}).items():
            if found["outcome"] == "violations":
                page["violations"].add(f"{rule}（{found['impact']}）")
        for what, passed in (entry.get("checks") or {}).values():
            if not passed:
                page["violations"].add(what)
    lines = [
        "# アクセシビリティ試験結果（JIS X 8341-3:2016）",
        "",
        ("<!-- Generated by `python -m pytest tests/accessibility -n 3 --a11y-report docs/accessibility.md`"
        " (tests/accessibility/report.py): do not edit by hand. -->"),
        "",
        ("ウェブアクセシビリティ方針に基づき、Outreach Desk（消防職員のマイナンバーカード出張申請予約）を"
        "試験した結果です。自動試験（axe-core とブラウザーでの操作試験）の結果であり、"
        "人による確認が必要な達成基準はその旨を記しています。"),
        "",
        "| 項目 | 内容 |",
        "|---|---|",
        "| 規格の規格番号及び改正年 | JIS X 8341-3:2016 |",
        "| 目標とする適合レベル | AA |",
        f"| 試験日 | {tested_on.year}年{tested_on.month}月{tested_on.day}日 |",
        f"| 試験の結果 | {'不適合の箇所あり（下表）' if failed else '自動試験で確認できた範囲で、達成基準を満たしている'} |",
        f"| 試験ツール | axe-core {axe_version}（WCAG 2.0/2.1 A・AA のルール）、Chromium（Playwright） |",
        ("| 試験方法 | 各利用者の画面を、その利用者の画面の大きさで開き、axe-core を実行した。"
        "予約画面では、キーボードのフォーカスが見えること（2.4.7）、文字を 200% にしても横スクロール"
        "せず文字が欠けないこと（1.4.4）もブラウザーで確かめた。 |"),
        f"| 試験対象ページ数 | {len(pages)} |",
        "",
        "## 試験対象ページ",
        "",
        "| 利用者 | ページ | URL | 画面 | 言語 | 結果 |",
        "|---|---|---|---|---|---|",
    ]
    order = list(ROLE_LABELS)
    for key in sorted(pages, key=lambda k: (order.index(k[0]) if k[0] in order else 99, k[1], k[2], k[3])):
        page = pages[key]
        result = "不適合: " + ", ".join(sorted(page["violations"])) if page["violations"] else "問題なし"
        lines.append(f"| {ROLE_LABELS.get(page['role'], page['role'])} | {page['page']} | `{page['url']}` | "
                     f"{page['viewport']} | {page['lang']} | {result} |")
    lines += [
        "",
        "## 達成基準チェックリスト",
        "",
        ("「適合（自動試験）」は、その基準を試す自動試験がすべてのページで問題を見つけなかったことを示す。"
        "自動試験だけで適合と言える基準は少ないため、人による確認と併せて判断する。"),
        "",
        "| 達成基準 | 適合レベル | 試験の方法 | 結果 | 注記 |",
        "|---|---|---|---|---|",
    ]
    for number, level, title in CRITERIA:
        how, result, note = _result_of(number, entries)
        lines.append(f"| {number} {title} | {level} | {how} | {result} | {note} |")
    extra: dict[str, dict[str, bool]] = defaultdict(dict)
    known = {number for number, _level, _title in CRITERIA}
    for entry in entries:
        for key, (what, passed) in (entry.get("checks") or {}).items():
            if key not in known:
                extra[key][what] = extra[key].get(what, True) and passed
    if extra:
        lines += ["", "## 追加の試験（WCAG 2.1・2.2 の達成基準）", "",
                  "JIS X 8341-3:2016 の後に WCAG に加わった達成基準のうち、ブラウザーで試したもの。", "",
                  "| 達成基準 | 試験の内容 | 結果 |", "|---|---|---|"]
        for key in sorted(extra):
            for what, passed in sorted(extra[key].items()):
                lines.append(f"| {key} | {what} | {'適合（自動試験）' if passed else '不適合'} |")
    lines += [
        "",
        "## 試験しなかった画面",
        "",
        ("印刷用のページ（名簿・案内票・開示書面）と CSV/XLSX のダウンロードは、紙やファイルとして"
        "使うため、この試験の対象にしていない。"),
        "",
    ]
    return "\n".join(lines)


def test_id() -> str:
    """The running test's id (pytest sets PYTEST_CURRENT_TEST), to name its results file."""
    return os.environ.get("PYTEST_CURRENT_TEST", "unknown").split(" ")[0]
