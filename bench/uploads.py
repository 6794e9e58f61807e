#!/usr/bin/env python
"""What big uploads cost one worker: six at once, real HTTP, the production server setup.

For each case it serves the app with ``run.py`` (gunicorn with gunicorn.conf.py,
one worker so that every upload lands in the same process) on a free port of
127.0.0.1, warms the worker up with one ordinary upload of the same kind, then
sends six uploads at once and reads the worker's memory from /proc while they
run: VmRSS every 20 ms and VmHWM (the kernel's peak), then VmRSS again once
the answers are in and the worker has been idle for ``--settle`` seconds. A
worker that was replaced meanwhile (gunicorn recycling it) is reported as
such, with the new worker's memory as the settled figure.

Cases (``--cases``, comma-separated):

``photo-huge``      an 8900 x 8900 JPEG of about 1.5 MB (issue 17: 5.2 s and 700 MB in one worker)
``photo-phone``     a 4032 x 3024 JPEG as a phone takes it (about 4 MB)
``xlsx-bomb``       a staff list XLSX of about 1 MB holding ``--bomb-mb`` (1024) MB of sheet XML,
                    to the office's import page
``xlsx-bomb-status`` the same file to the monthly card status survey page
``xlsx-staff``      an ordinary 5,000-line staff list XLSX to the office's import page

Photos go to ``POST /api/v1/checkins/<id>/photo`` (six check-ins, an admin's
token); XLSX files to the pages, signed in as an admin. Every wait is bounded
(``--timeout`` per request); if the worker grows past ``--rss-limit-mb`` the
server is stopped, so that a run of the old code cannot take the machine's
memory, and the case is reported as stopped.

    python bench/uploads.py                                    # every case, SQLite
    python bench/uploads.py --cases photo-huge,photo-phone --db postgres --json out.json

Figures: docs/benchmarks.md, "Uploads".
"""
from __future__ import annotations

import argparse
import html
import io
import json
import random
import re
import statistics
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
import zipfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from rush import Data, Server, fresh_database, load_average, log, machine, sign_in

UPLOADS = 6
STAFF_HEADER = ["staff_number", "family_name", "given_name", "family_name_kana", "given_name_kana", "unit_code",
                "crew", "email", "phone", "card_status"]


# --- the files -----------------------------------------------------------------------------


def photo(width: int, height: int, *, quality: int, shapes: int, seed: int = 3) -> bytes:
    """A photo-like JPEG: a gradient with coloured shapes (few shapes compress well, like a plain wall)."""
    from PIL import Image, ImageDraw

    rng = random.Random(seed)
    image = Image.linear_gradient("L").resize((width, height)).convert("RGB")
    draw = ImageDraw.Draw(image)
    for _ in range(shapes):
        x, y, r = rng.randrange(width), rng.randrange(height), rng.randrange(width // 60, width // 6)
        draw.ellipse((x - r, y - r, x + r, y + r), fill=(rng.randrange(256), rng.randrange(256), rng.randrange(256)))
    if shapes > 100:  # a phone photo's grain: it is what makes one 3-5 MB
        noise = Image.effect_noise((width, height), 30).convert("RGB")
        image = Image.blend(image, noise, 0.2)
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=quality)
    return buffer.getvalue()


def xlsx(rows: list[list[str]]) -> bytes:
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet()
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def xlsx_bomb(megabytes: int, header: list[str]) -> bytes:
    """A real workbook whose first sheet is rewritten as ``megabytes`` MB of rows of 100 cells each.

    The rows repeat exactly, so that deflate packs them about 1,000 to 1; the sheet has no
    <dimension>, as a hand-made file need not, which makes openpyxl read it whole twice."""
    template = zipfile.ZipFile(io.BytesIO(xlsx([header])))
    head = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData><row>'
            + "".join(f'<c t="inlineStr"><is><t>{h}</t></is></c>' for h in header) + "</row>").encode()
    row = ("<row>" + '<c t="inlineStr"><is><t>x</t></is></c>' * 100 + "</row>").encode()
    tail = b"</sheetData></worksheet>"
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as bomb:
        for info in template.infolist():
            if info.filename != "xl/worksheets/sheet1.xml":
                bomb.writestr(info.filename, template.read(info.filename))
        block = row * (1 << 20 // len(row) + 1)
        with bomb.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            sheet.write(head)
            written = 0
            while written < megabytes << 20:
                sheet.write(block)
                written += len(block)
            sheet.write(tail)
    return out.getvalue()


def multipart(fields: dict[str, str], files: dict[str, tuple[str, str, bytes]]) -> tuple[str, bytes]:
    boundary = uuid.uuid4().hex
    parts = []
    for name, value in fields.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
    for name, (filename, mimetype, data) in files.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
                     f"Content-Type: {mimetype}\r\n\r\n".encode() + data + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return f"multipart/form-data; boundary={boundary}", b"".join(parts)


# --- memory --------------------------------------------------------------------------------


def status_kib(pid: int) -> dict[str, int]:
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return {}
    return {key: int(value) for key, value in re.findall(r"^(VmRSS|VmHWM|RssAnon|RssFile):\s+(\d+) kB", text, re.MULTILINE)}


class Sampler(threading.Thread):
    """Every worker's VmRSS every 20 ms and its VmHWM, while the uploads run."""

    def __init__(self, server: Server, limit_mib: int):
        super().__init__(daemon=True)
        self.server, self.limit_kib = server, limit_mib * 1024
        self.peak_kib: dict[int, int] = {}
        self.stopping = threading.Event()
        self.over_limit = False

    def run(self) -> None:
        while not self.stopping.is_set():
            for pid in self.server.worker_pids():
                figures = status_kib(pid)
                if figures:
                    self.peak_kib[pid] = max(self.peak_kib.get(pid, 0), figures["VmRSS"], figures["VmHWM"])
                    if figures["VmRSS"] > self.limit_kib and not self.over_limit:
                        self.over_limit = True
                        log(f"  worker {pid} passed {self.limit_kib // 1024} MiB: stopping the server")
                        self.server.stop()
            self.stopping.wait(0.02)


# --- the requests --------------------------------------------------------------------------


@dataclass
class Answer:
    status: int
    seconds: float
    text: str = ""


@dataclass
class Case:
    name: str
    url: str
    fields: dict[str, str]
    files: list[tuple[str, str, str, bytes]]  # one per upload: field, filename, type, data
    headers: dict[str, str] = field(default_factory=dict)
    page: str = ""  # a page to take a CSRF token from
    ids: list[int] = field(default_factory=list)  # check-ins, for the photo URL's {}

    def target(self, index: int) -> str:
        return self.url.format(self.ids[index]) if self.ids else self.url


def send(base: str, case: Case, index: int, timeout: float, csrf: str) -> Answer:
    name, filename, mimetype, data = case.files[index]
    fields = {**case.fields, **({"csrf_token": csrf} if csrf else {})}
    content_type, body = multipart(fields, {name: (filename, mimetype, data)})
    url = case.target(index)
    request = urllib.request.Request(base + url, data=body, method="POST",
                                     headers={**case.headers, "Content-Type": content_type,
                                              "Accept-Language": "en", "Referer": base + (case.page or url)})
    started = time.monotonic()
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            status, text = answer.status, answer.read().decode(errors="replace")
    except urllib.error.HTTPError as error:
        status, text = error.code, error.read().decode(errors="replace")
    except OSError as error:
        status, text = 0, f"{error.__class__.__name__}: {error}"
    return Answer(status, time.monotonic() - started, text)


def page_message(text: str) -> str:
    """What a person reads: a JSON answer's message, or a page's problem cells and flashed messages."""
    try:
        return str(json.loads(text).get("message", ""))[:200]
    except (ValueError, AttributeError):
        pass
    found = re.findall(r"<td>([^<]{30,})</td>", text)
    found += re.findall(r'class="[^"]*(?:error|flash)[^"]*"[^>]*>\s*([^<]{10,300})', text)
    return " / ".join(dict.fromkeys(html.unescape(s.strip()) for s in found))[:300]


def csrf_token(base: str, page: str, cookie: str) -> str:
    request = urllib.request.Request(base + page, headers={"Cookie": cookie})
    with urllib.request.urlopen(request, timeout=30) as answer:
        return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', answer.read().decode()).group(1)


def run_case(case: Case, warmup: Case, server: Server, args) -> dict:
    csrf = csrf_token(server.base, case.page, case.headers["Cookie"]) if case.page else ""
    warm = send(server.base, warmup, 0, args.timeout, csrf)
    if warm.status >= 500 or warm.status == 0:
        raise RuntimeError(f"the warm-up upload failed: {warm.status} {warm.text[:300]}")
    time.sleep(1)
    before = {pid: status_kib(pid).get("VmRSS", 0) for pid in server.worker_pids()}
    sampler = Sampler(server, args.rss_limit_mb)
    sampler.start()
    answers: list[Answer | None] = [None] * len(case.files)

    def one(index: int) -> None:
        answers[index] = send(server.base, case, index, args.timeout, csrf)

    started = time.monotonic()
    threads = [threading.Thread(target=one, args=(i,)) for i in range(len(case.files))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(args.timeout + 10)
    wall = time.monotonic() - started
    if not sampler.over_limit:
        time.sleep(args.settle)
    sampler.stopping.set()
    sampler.join()
    after_pids = server.worker_pids()
    settled_status = {pid: status_kib(pid) for pid in after_pids}
    settled = {pid: figures.get("VmRSS", 0) for pid, figures in settled_status.items()}
    done = [a for a in answers if a is not None]
    codes: dict[str, int] = {}
    for answer in done:
        codes[str(answer.status)] = codes.get(str(answer.status), 0) + 1
    seconds = sorted(a.seconds for a in done)
    return {
        "case": case.name,
        "uploads": len(case.files),
        "upload_bytes": len(case.files[0][3]),
        "answers": codes,
        "seconds_min": round(seconds[0], 2) if seconds else None,
        "seconds_median": round(statistics.median(seconds), 2) if seconds else None,
        "seconds_max": round(seconds[-1], 2) if seconds else None,
        "wall_seconds": round(wall, 2),
        "rss_before_mib": round(max(before.values(), default=0) / 1024, 1),
        "rss_peak_mib": round(max(sampler.peak_kib.values(), default=0) / 1024, 1),
        "rss_settled_mib": round(max(settled.values(), default=0) / 1024, 1),
        # Of the settled figure, what the worker allocated (RssAnon) and mapped files (libraries).
        "rss_settled_anon_mib": round(max((f.get("RssAnon", 0) for f in settled_status.values()), default=0) / 1024, 1),
        "recycled": bool(before) and set(before) != set(after_pids),
        "stopped_over_limit": sampler.over_limit,
        "message": page_message(done[0].text) if done else "",
        "load": load_average(),
    }


# --- one database --------------------------------------------------------------------------


def prepare(data: Data, uploads: int) -> list[str]:
    """Units, venues, an admin with a token, and ``uploads`` + 1 bookings to check in; their codes."""
    from booking.models import Staff
    from booking.services import reservations

    data.migrate()
    data.organisation(stations=5)
    staff = data.add_staff(uploads + 1)
    campaign = data.campaign("写真のベンチ", sessions=1, desks=uploads + 1)
    codes = []
    with data.ctx() as db:
        for person in staff:
            record = db.session.get(Staff, person["id"])
            codes.append(reservations.reserve(campaign["slots"][0][0], record).code)
        db.session.commit()
    return codes


def check_in(base: str, token: str, codes: list[str]) -> list[int]:
    ids = []
    for code in codes:
        request = urllib.request.Request(base + "/api/v1/checkins", data=json.dumps({"code": code}).encode(),
                                         headers={"Authorization": f"Bearer {token}",
                                                  "Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=30) as answer:
            ids.append(json.loads(answer.read())["check_ins"][0]["id"])
    return ids


def cases(names: list[str], args, workdir: Path) -> dict[str, tuple[Case, Case]]:
    """Each case with its warm-up (one ordinary upload of the same kind), files made once."""
    made: dict[str, tuple[Case, Case]] = {}
    count = args.uploads
    small = photo(1200, 1600, quality=90, shapes=150)
    photo_url = "/api/v1/checkins/{}/photo?lang=en"
    if "photo-huge" in names:
        huge = photo(8900, 8900, quality=60, shapes=40)
        made["photo-huge"] = (Case("photo-huge", photo_url, {}, [("photo", "huge.jpg", "image/jpeg", huge)] * count),
                              Case("warm-up", photo_url, {}, [("photo", "small.jpg", "image/jpeg", small)]))
    if "photo-phone" in names:
        phone = photo(4032, 3024, quality=92, shapes=150)
        made["photo-phone"] = (Case("photo-phone", photo_url, {},
                                    [("photo", "phone.jpg", "image/jpeg", phone)] * count),
                               Case("warm-up", photo_url, {}, [("photo", "small.jpg", "image/jpeg", small)]))
    type_ = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    little = xlsx([STAFF_HEADER, ["9000001", "山田", "花子", "ヤマダ", "ハナコ", "S01", "1部", "", "", "none"]])
    staff_page = "/office/staff/import?lang=en"
    if any(n.startswith("xlsx-bomb") for n in names):
        path = workdir / f"bomb-{args.bomb_mb}.xlsx"
        if not path.exists():
            log(f"making an XLSX holding {args.bomb_mb} MB of sheet XML")
            path.write_bytes(xlsx_bomb(args.bomb_mb, STAFF_HEADER))
        bomb = path.read_bytes()
        if "xlsx-bomb" in names:
            made["xlsx-bomb"] = (Case("xlsx-bomb", staff_page, {}, [("file", "staff.xlsx", type_, bomb)] * count,
                                      page=staff_page),
                                 Case("warm-up", staff_page, {}, [("file", "staff.xlsx", type_, little)],
                                      page=staff_page))
        if "xlsx-bomb-status" in names:
            survey = {"survey_date": datetime.now(UTC).date().isoformat()}
            status_page = "/reports/status-import?lang=en"
            status_little = xlsx([["staff_number", "card_status"], ["000001", "applied"]])
            made["xlsx-bomb-status"] = (
                Case("xlsx-bomb-status", status_page, survey, [("file", "survey.xlsx", type_, bomb)] * count,
                     page=status_page),
                Case("warm-up", status_page, survey, [("file", "survey.xlsx", type_, status_little)],
                     page=status_page))
    if "xlsx-staff" in names:
        rows = [STAFF_HEADER] + [[str(7_000_000 + n), "山田", f"太郎{n}", "ヤマダ", "タロウ", f"S0{n % 5 + 1}",
                                  f"{n % 3 + 1}部", f"t{n}@example.jp", "", "none"] for n in range(5000)]
        made["xlsx-staff"] = (Case("xlsx-staff", staff_page, {}, [("file", "staff.xlsx", type_, xlsx(rows))] * count,
                                   page=staff_page),
                              Case("warm-up", staff_page, {}, [("file", "staff.xlsx", type_, little)],
                                   page=staff_page))
    return made


def run_database(kind: str, names: list[str], args, workdir: Path) -> list[dict]:
    results = []
    files = cases(names, args, workdir)
    with fresh_database(kind, workdir) as url:
        data = Data(url, workdir / "photos")
        codes = prepare(data, args.uploads)
        data.dispose()
        check_in_ids: list[int] = []
        for name in names:
            case, warmup = files[name]
            extra = {"WEB_THREADS": str(args.threads)} if args.threads else {}
            server = Server(url, 1, workdir, None, extra)
            try:
                if not check_in_ids:
                    check_in_ids = check_in(server.base, data.api_token, codes)
                for item in (case, warmup):
                    if item.url.startswith("/api/"):
                        item.headers = {"Authorization": f"Bearer {data.api_token}"}
                        # The warm-up takes the last check-in; the six take one each.
                        item.ids = check_in_ids[-1:] if item is warmup else check_in_ids
                    else:
                        item.headers = {"Cookie": sign_in(server.base)}
                log(f"[{kind}] {name}: {len(case.files)} at once (load {load_average()})")
                result = run_case(case, warmup, server, args)
            finally:
                server.stop()
            result["database"] = kind
            result["threads"] = args.threads or "default"
            log(f"  {json.dumps(result, ensure_ascii=False)}")
            results.append(result)
    return results


def print_table(results: list[dict]) -> None:
    print("| case | database | answers | seconds min / median / max | worker RSS before → peak → settled (MiB) "
          "| recycled | message |")
    print("|---|---|---|---|---|---|---|")
    for r in results:
        answers = ", ".join(f"{code}: {n}" for code, n in sorted(r["answers"].items()))
        stopped = " (stopped at the limit)" if r["stopped_over_limit"] else ""
        print(f"| {r['case']} | {r['database']} | {answers}{stopped} | {r['seconds_min']} / {r['seconds_median']} / "
              f"{r['seconds_max']} | {r['rss_before_mib']} → {r['rss_peak_mib']} → {r['rss_settled_mib']} | "
              f"{'yes' if r['recycled'] else 'no'} | {r['message'][:120]} |")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", default="photo-huge,photo-phone,xlsx-bomb,xlsx-bomb-status,xlsx-staff")
    parser.add_argument("--db", default="sqlite", help="sqlite, postgres or both (comma-separated)")
    parser.add_argument("--threads", type=int, default=None, help="threads of the worker (default: gunicorn.conf.py)")
    parser.add_argument("--uploads", type=int, default=UPLOADS, help="uploads sent at once (default 6)")
    parser.add_argument("--bomb-mb", type=int, default=1024, help="sheet XML in the XLSX bomb, MB (default 1024)")
    parser.add_argument("--settle", type=float, default=10, help="idle seconds before the settled figure")
    parser.add_argument("--timeout", type=float, default=600, help="seconds each upload may take")
    parser.add_argument("--rss-limit-mb", type=int, default=4096, help="stop the server if a worker grows past this")
    parser.add_argument("--json", type=Path, help="write every figure to this JSON file")
    args = parser.parse_args(argv)
    names = [n.strip() for n in args.cases.split(",") if n.strip()]
    header = {"machine": machine(), "started": datetime.now(UTC).isoformat(timespec="seconds"),
              "command": " ".join([Path(sys.executable).name, *sys.argv]), "load": load_average()}
    print(f"machine {header['machine']}; load {header['load']}; {header['command']}")
    results: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="od-bench-uploads-") as tmp:
        for kind in [k.strip() for k in args.db.split(",") if k.strip()]:
            results += run_database(kind, names, args, Path(tmp))
            if args.json:
                args.json.write_text(json.dumps({**header, "results": results}, indent=1, ensure_ascii=False))
    print_table(results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
