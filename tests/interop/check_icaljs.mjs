// Parse an iCalendar file the way Thunderbird/Nextcloud do (ical.js 2.2.1) and report.
//
// Usage: node check_icaljs.mjs [FILE|-] [--from YYYY-MM-DD] [--to YYYY-MM-DD]
// Prints JSON {"events": [...], "problems": [...]}; each event is
// {uid, recurrence_id, start_utc, end_utc, all_day, status, summary}, recurring events
// expanded over [from, to) (UTC). Timed values are "YYYY-MM-DDTHH:MM:SSZ", all-day
// values "YYYY-MM-DD". The script only exits non-zero on bad usage; problems are data.
// Rule ids (F7, F14, ...) refer to docs/calendar-feeds.md.
import { readFileSync } from "node:fs";
import ICAL from "ical.js";

const MAX_OCCURRENCES = 5000;
const STATUSES = new Set(["TENTATIVE", "CONFIRMED", "CANCELLED"]);
const DATE_PROPS = ["dtstart", "dtend", "recurrence-id", "exdate", "rdate", "due"];
// Properties whose value type must be known to ical.js; "unknown" means the client
// cannot interpret them (e.g. REFRESH-INTERVAL without VALUE=DURATION, F14).
const TYPED_PROPS = new Set(["refresh-interval", "dtstamp", "last-modified", "sequence"]);

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

function readInput(file) {
  return readFileSync(file === "-" ? 0 : file, "utf8");
}

function fmt(time) {
  if (time.isDate) {
    return time.toString();
  }
  if (time.zone === ICAL.Timezone.localTimezone || time.zone?.tzid === "floating") {
    // Floating: ical.js would show it in the viewer's zone; report it as if UTC.
    return `${time.toString().slice(0, 19)}Z`;
  }
  return `${time.convertToZone(ICAL.Timezone.utcTimezone).toString().slice(0, 19)}Z`;
}

function isFloating(time) {
  return !time.isDate && (time.zone === ICAL.Timezone.localTimezone || time.zone?.tzid === "floating");
}

function checkProperties(component, where, problems) {
  for (const prop of component.getAllProperties()) {
    try {
      prop.getValues(); // ical.js decodes lazily: force it so bad values surface here
    } catch (err) {
      problems.push(`${where}: invalid ${prop.name.toUpperCase()} value: ${err.message}`);
      continue;
    }
    if (TYPED_PROPS.has(prop.name) && prop.type === "unknown") {
      problems.push(`${where}: ${prop.name.toUpperCase()} has value type unknown`);
    }
    if (DATE_PROPS.includes(prop.name)) {
      const tzid = prop.getParameter("tzid");
      for (const value of prop.getValues()) {
        if (typeof value === "object" && value !== null && "isDate" in value && isFloating(value)) {
          problems.push(
            tzid
              ? `${where}: TZID ${tzid} has no VTIMEZONE -> floating ${prop.name.toUpperCase()}`
              : `${where}: floating ${prop.name.toUpperCase()}`,
          );
        }
      }
    }
  }
}

function checkEvent(comp, where, problems) {
  for (const name of ["uid", "dtstamp", "dtstart"]) {
    if (!comp.hasProperty(name)) {
      problems.push(`${where}: missing ${name.toUpperCase()}`);
    }
  }
  checkProperties(comp, where, problems);
  const status = comp.getFirstPropertyValue("status");
  if (status !== null && !STATUSES.has(status)) {
    problems.push(`${where}: STATUS ${status} is not TENTATIVE/CONFIRMED/CANCELLED`);
  }
  const dtstart = comp.getFirstProperty("dtstart");
  const dtend = comp.getFirstProperty("dtend");
  let start = null;
  try {
    start = dtstart?.getFirstValue() ?? null;
  } catch {
    return; // already reported by checkProperties
  }
  if (start && dtend) {
    try {
      const end = dtend.getFirstValue();
      if (end.isDate !== start.isDate) {
        problems.push(`${where}: DTEND and DTSTART have different value types`);
      } else if (end.compare(start) < 0) {
        problems.push(`${where}: DTEND before DTSTART`);
      }
    } catch {
      // already reported
    }
  }
  for (const rruleProp of comp.getAllProperties("rrule")) {
    let recur;
    try {
      recur = rruleProp.getFirstValue();
    } catch {
      continue;
    }
    if (recur.until && recur.count) {
      problems.push(`${where}: RRULE has both COUNT and UNTIL`);
    }
    if (recur.until && start && !start.isDate && dtstart.getParameter("tzid") && recur.until.zone !== ICAL.Timezone.utcTimezone) {
      problems.push(`${where}: RRULE UNTIL is not UTC`);
    }
  }
  const startTzid = dtstart?.getParameter("tzid") ?? null;
  for (const exdate of comp.getAllProperties("exdate")) {
    if ((exdate.getParameter("tzid") ?? null) !== startTzid) {
      problems.push(`${where}: EXDATE TZID differs from DTSTART TZID`);
    }
  }
}

function occurrences(event, from, to, problems, where) {
  const out = [];
  const record = (recurrenceId, startDate, endDate, item) => {
    if (startDate.toUnixTime() >= to || endDate.toUnixTime() <= from) {
      // An empty event (start == end) at the window's start still counts.
      if (!(startDate.toUnixTime() === from && endDate.compare(startDate) === 0)) {
        return;
      }
    }
    out.push({
      uid: event.uid,
      recurrence_id: recurrenceId === null ? null : fmt(recurrenceId),
      start_utc: fmt(startDate),
      end_utc: fmt(endDate),
      all_day: startDate.isDate,
      status: item.component.getFirstPropertyValue("status"),
      summary: item.summary,
    });
  };
  if (!event.isRecurring()) {
    record(null, event.startDate, event.endDate, event);
    return out;
  }
  const iter = event.iterator();
  let next;
  let count = 0;
  while ((next = iter.next())) {
    if (++count > MAX_OCCURRENCES) {
      problems.push(`${where}: more than ${MAX_OCCURRENCES} occurrences`);
      break;
    }
    if (next.toUnixTime() >= to) {
      break;
    }
    const details = event.getOccurrenceDetails(next);
    record(next, details.startDate, details.endDate, details.item);
  }
  return out;
}

function check(text, opts) {
  const problems = [];
  const events = [];
  let root;
  try {
    root = new ICAL.Component(ICAL.parse(text));
  } catch (err) {
    return { events, problems: [`parse error: ${err.message}`] };
  }
  if (root.name !== "vcalendar") {
    return { events, problems: [`root component is ${root.name}, not VCALENDAR`] };
  }
  for (const name of ["version", "prodid"]) {
    if (!root.hasProperty(name)) {
      problems.push(`VCALENDAR: missing ${name.toUpperCase()}`);
    }
  }
  checkProperties(root, "VCALENDAR", problems);
  const from = ICAL.Time.fromDateString(opts.from).toUnixTime();
  const to = ICAL.Time.fromDateString(opts.to).toUnixTime();

  const masters = new Map();
  const exceptions = [];
  const vevents = root.getAllSubcomponents("vevent");
  vevents.forEach((comp, index) => {
    const uid = comp.getFirstPropertyValue("uid");
    const where = `VEVENT #${index + 1}${uid ? ` (${uid})` : ""}`;
    checkEvent(comp, where, problems);
    if (comp.hasProperty("recurrence-id")) {
      exceptions.push(comp);
    } else if (uid !== null && masters.has(uid)) {
      problems.push(`${where}: duplicate UID`);
    } else {
      masters.set(uid ?? `#${index + 1}`, { comp, where });
    }
  });
  for (const comp of root.getAllSubcomponents("vtimezone")) {
    checkProperties(comp, "VTIMEZONE", problems);
  }
  for (const { comp, where } of masters.values()) {
    let event;
    try {
      event = new ICAL.Event(comp, { exceptions: exceptions.filter((e) => e.getFirstPropertyValue("uid") === comp.getFirstPropertyValue("uid")) });
      events.push(...occurrences(event, from, to, problems, where));
    } catch (err) {
      problems.push(`${where}: ${err.message}`);
    }
  }
  events.sort((a, b) => `${a.uid}\u0000${a.start_utc}`.localeCompare(`${b.uid}\u0000${b.start_utc}`));
  return { events, problems: [...new Set(problems)] };
}

let opts;
try {
  opts = parseArgs(process.argv.slice(2));
} catch (err) {
  process.stderr.write(`${err.message}\n`);
  process.exit(2);
}
process.stdout.write(`${JSON.stringify(check(readInput(opts.file), opts), null, 1)}\n`);
