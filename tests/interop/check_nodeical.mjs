// Second opinion from node-ical 0.27.2, a tolerant generic Node consumer.
//
// Usage: node check_nodeical.mjs [FILE|-] [--from YYYY-MM-DD] [--to YYYY-MM-DD]
// Prints the same JSON shape as check_icaljs.mjs: {"events": [...], "problems": [...]}.
// node-ical validates little (it merges duplicate UIDs, resolves IANA names without a
// VTIMEZONE), so its value is in decoding: text unescaping, CATEGORIES, instants.
import { readFileSync } from "node:fs";
import ical from "node-ical";

function parseArgs(argv) {
  const opts = { file: "-", from: "1970-01-01", to: "2100-01-01" };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--from" || arg === "--to") {
      opts[arg.slice(2)] = argv[++i];
    } else if (arg.startsWith("--")) {
      throw new Error(`unknown option ${arg}`);
    } else {
      opts.file = arg;
    }
  }
  return opts;
}

const pad = (n) => String(n).padStart(2, "0");

function fmt(date, allDay) {
  if (allDay) {
    // node-ical builds DATE values at local midnight, so read them with local getters.
    return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
  }
  return `${date.toISOString().slice(0, 19)}Z`;
}

const text = (value) => (value && typeof value === "object" && "val" in value ? value.val : value ?? null);

function check(source, opts) {
  const problems = [];
  const events = [];
  let data;
  try {
    data = ical.sync.parseICS(source);
  } catch (err) {
    return { events, problems: [`parse error: ${err.message}`] };
  }
  const from = new Date(`${opts.from}T00:00:00Z`);
  const to = new Date(`${opts.to}T00:00:00Z`);
  for (const [key, event] of Object.entries(data)) {
    if (event.type !== "VEVENT") {
      continue;
    }
    if (!event.uid) {
      problems.push(`VEVENT ${key}: missing UID`);
    }
    if (!(event.start instanceof Date) || Number.isNaN(event.start.getTime())) {
      problems.push(`VEVENT ${key}: no usable DTSTART`);
      continue;
    }
    const allDay = event.datetype === "date";
    if (!event.rrule) {
      const end = event.end ?? event.start;
      if (event.start < to && (end > from || end.getTime() === event.start.getTime())) {
        events.push({
          uid: event.uid ?? null,
          recurrence_id: null,
          start_utc: fmt(event.start, allDay),
          end_utc: fmt(end, allDay),
          all_day: allDay,
          status: event.status ?? null,
          summary: text(event.summary),
        });
      }
      continue;
    }
    // "to" is inclusive for node-ical; stop one millisecond before the window's end.
    const instances = ical.expandRecurringEvent(event, { from, to: new Date(to.getTime() - 1) });
    for (const inst of instances) {
      const item = inst.event ?? event;
      const rid = inst.isOverride && item.recurrenceid ? item.recurrenceid : inst.start;
      events.push({
        uid: event.uid ?? null,
        recurrence_id: fmt(rid, inst.isFullDay),
        start_utc: fmt(inst.start, inst.isFullDay),
        end_utc: fmt(inst.end, inst.isFullDay),
        all_day: inst.isFullDay,
        status: item.status ?? null,
        summary: text(inst.summary),
      });
    }
  }
  events.sort((a, b) => `${a.uid}\u0000${a.start_utc}`.localeCompare(`${b.uid}\u0000${b.start_utc}`));
  return { events, problems };
}

let opts;
try {
  opts = parseArgs(process.argv.slice(2));
} catch (err) {
  process.stderr.write(`${err.message}\n`);
  process.exit(2);
}
process.stdout.write(`${JSON.stringify(check(readFileSync(opts.file === "-" ? 0 : opts.file, "utf8"), opts), null, 1)}\n`);
