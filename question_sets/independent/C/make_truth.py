#!/usr/bin/env python3
"""Question author C: UR/case-management nurse + night-float resident persona.

Reads only the contract's data files and writes questions.jsonl next to this script.
Every expected fact / span is computed here from codes, statuses, dates and text
searches; the question wording is typed by hand below.
"""
import base64, csv, glob, json, os, re, sys
from datetime import datetime, date

HERE = os.path.dirname(os.path.abspath(__file__))
DEMO = '/work/authoring/data/demo'
SYN1 = '/work/shared/data/synthea_fhir/wasee11_synthea_v3'
SYN2 = '/work/shared/data/synthea_fhir/healthwallet_synthea'
MTS = '/work/shared/data/mtsamples/mtsamples.csv'
AS_OF = json.load(open(os.path.join(DEMO, 'WORLD.json')))['as_of']

OUT = []
SKIPPED = []


def dt(s):
    return datetime.fromisoformat(s.replace('Z', '+00:00'))


def cc(c):
    if not c:
        return ''
    return c.get('text') or (c.get('coding') or [{}])[0].get('display', '')


def codes(c):
    return {x.get('code') for x in (c or {}).get('coding', [])}


def fmtnum(v):
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


# ---------------------------------------------------------------- sections
DEMO_HDR = re.compile(r'^(#{1,3} .+|[A-Z][A-Za-z0-9 /&()\'-]{1,50}:.*)$', re.M)
MTS_HDR = re.compile(r'(?:(?<=^)|(?<=[,.\s]))([A-Z][A-Z0-9 /&()\'-]{2,70}):')


def line_headers(text):
    return [m.start() for m in DEMO_HDR.finditer(text)]


def section_at(text, pos, hdrs):
    """smallest header-to-next-header range holding pos; paragraph if no header before."""
    starts = [h for h in hdrs if h <= pos]
    if starts:
        s = starts[-1]
        nxt = [h for h in hdrs if h > pos]
        e = nxt[0] if nxt else len(text)
    else:
        s = text.rfind('\n\n', 0, pos)
        s = 0 if s < 0 else s + 2
        e = text.find('\n\n', pos)
        e = len(text) if e < 0 else e
    while e > s and text[e - 1].isspace():
        e -= 1
    return s, e


# ---------------------------------------------------------------- FHIR bundle
class Bundle:
    def __init__(self, path):
        self.path = path
        b = json.load(open(path))
        self.raw = json.dumps(b).lower()
        self.res = [e['resource'] for e in b['entry']]
        self.pat = [r for r in self.res if r['resourceType'] == 'Patient'][0]
        self.pid = self.pat['id']
        self.notes = {}
        for r in self.res:
            if r['resourceType'] == 'DocumentReference':
                try:
                    self.notes[r['id']] = (base64.b64decode(r['content'][0]['attachment']['data']).decode('utf-8'), r.get('date') or '')
                except Exception:
                    pass
        self.alltext = self.raw + ' ' + ' '.join(t.lower() for t, _ in self.notes.values())
        n = self.pat['name'][0]
        self.name = ' '.join(n.get('given', [])) + ' ' + n.get('family', '')
        self.g = self.pat.get('gender')

    def of(self, t):
        return [r for r in self.res if r['resourceType'] == t]

    def he(self):
        return 'she' if self.g == 'female' else 'he'

    def his(self):
        return 'her' if self.g == 'female' else 'his'

    # note lines where all regexes match on one line
    def note_support(self, regexes, same_date=None):
        hits = []
        for did, (text, ndate) in self.notes.items():
            if same_date and not ndate.startswith(same_date):
                continue
            hdrs = line_headers(text)
            pos = 0
            for line in text.split('\n'):
                if all(re.search(rx, line, re.I) for rx in regexes):
                    s, e = section_at(text, pos + 1 if line.strip() == '' else pos + len(line) - len(line.lstrip()), hdrs)
                    hits.append(('DocumentReference/' + did, s, e))
                pos += len(line) + 1
        # dedupe
        out, seen = [], set()
        for h in hits:
            if h not in seen:
                seen.add(h); out.append(h)
        return out

    def row_support(self, regexes, types=('Task', 'ServiceRequest', 'CarePlan', 'MedicationRequest')):
        refs = []
        for r in self.res:
            if r['resourceType'] not in types:
                continue
            texts = [r.get('description') or '', cc(r.get('code'))] + [n.get('text', '') for n in r.get('note', [])]
            for a in r.get('activity', []):
                texts.append(a.get('detail', {}).get('description') or '')
            for t in texts:
                if t and all(re.search(rx, t, re.I) for rx in regexes):
                    refs.append(r['resourceType'] + '/' + r['id']); break
        return refs

    def mentions(self, words):
        return [w for w in words if w.lower() in self.alltext]


def valre(v):
    return r'(?<![\d.])' + re.escape(fmtnum(v)) + r'(?![\d])'


def latest_obs(b, code_set=None, text_set=None):
    obs = []
    for r in b.of('Observation'):
        if code_set and codes(r['code']) & code_set or text_set and cc(r['code']).lower() in text_set:
            if r.get('effectiveDateTime'):
                obs.append(r)
    if not obs:
        return None
    m = max(dt(o['effectiveDateTime']) for o in obs)
    top = [o for o in obs if dt(o['effectiveDateTime']) == m]
    vals = {json.dumps(o.get('valueQuantity', {}).get('value')) + json.dumps([c.get('valueQuantity', {}).get('value') for c in o.get('component', [])]) for o in top}
    if len(vals) != 1:
        return 'AMBIG'
    return top


def Q(world, b_or_pid, question, expect, facts, spans, category, truth):
    pid = b_or_pid if isinstance(b_or_pid, str) else b_or_pid.pid
    OUT.append(dict(world=world, patient_id=pid, question=question, expect=expect,
                    expected_facts=facts, expected_spans=spans, category=category, truth=truth))


def facts_with_notes(b, refs, note_regexes):
    """one fact: refs + any note that states it (line match). returns fact, spans"""
    hits = b.note_support(note_regexes) if note_regexes else []
    fact = list(refs) + sorted({h[0] for h in hits})
    return fact, [list(h) for h in hits]


def lab_q(world, b, question, code_set, label, name_rx, category='lab-latest', text_set=None):
    top = latest_obs(b, code_set, text_set)
    if not top or top == 'AMBIG':
        SKIPPED.append((b.pid, question, 'no/ambiguous obs')); return
    o = top[0]
    refs = ['Observation/' + x['id'] for x in top]
    if 'valueQuantity' in o:
        v = o['valueQuantity']['value']
        vs = f"{fmtnum(round(v, 2))} {o['valueQuantity'].get('unit', '')}".strip()
        fact, spans = facts_with_notes(b, refs, [name_rx, valre(round(v, 2))]) if name_rx else (refs, [])
        refs2 = b.row_support([name_rx, valre(round(v, 2))], types=('Task',)) if name_rx else []
        fact = fact + refs2
    elif o.get('component'):
        comp = {list(codes(c['code']))[0]: c['valueQuantity']['value'] for c in o['component'] if 'valueQuantity' in c}
        sbp, dbp = comp.get('8480-6'), comp.get('8462-4')
        vs = f"{fmtnum(round(sbp))}/{fmtnum(round(dbp))} mmHg"
        fact, spans = refs, []
    else:
        vs = cc(o.get('valueCodeableConcept')) or o.get('valueString')
        fact, spans = refs, []
    Q(world, b, question, 'answer', [fact], spans, category, f"{label} {vs} on {o['effectiveDateTime'][:10]}")


def decline_if_absent(world, b, question, words, category, why):
    m = b.mentions(words)
    if m:
        SKIPPED.append((b.pid, question, 'mentions ' + ','.join(m))); return
    Q(world, b, question, 'decline', [], [], category, why)


# ================================================================ DEMO
def D(n):
    return Bundle(os.path.join(DEMO, 'patient-%05d.json' % n))


DIR = json.load(open(os.path.join(DEMO, 'directory.json')))
PRACT = {e['resource']['id']: e['resource'] for e in DIR['entry'] if e['resource']['resourceType'] == 'Practitioner'}


def pract_name(pid):
    r = PRACT.get(pid)
    if not r:
        return pid
    n = r['name'][0]
    return ' '.join(n.get('prefix', []) + n.get('given', []) + [n.get('family', '')])


def team_role(b, role_rx):
    """members whose CareTeam role matches, in active teams"""
    out = []
    for t in b.of('CareTeam'):
        if t.get('status') != 'active':
            continue
        for p in t.get('participant', []):
            role = cc((p.get('role') or [{}])[0])
            if re.search(role_rx, role, re.I):
                out.append((p['member']['reference'], 'CareTeam/' + t['id'], role, p['member'].get('display')))
    return out


def demo_team_q(b, question, role_rx, category):
    m = team_role(b, role_rx)
    people = sorted({x[0] for x in m})
    if len(people) != 1:
        SKIPPED.append((b.pid, question, 'team ' + str(m))); return
    ref = people[0]
    fact = [ref] + sorted({x[1] for x in m if x[0] == ref})
    disp = [x[3] for x in m if x[0] == ref][0]
    role = [x[2] for x in m if x[0] == ref][0]
    if re.search('primary care', role_rx, re.I):
        if any(g['reference'] == ref for g in b.pat.get('generalPractitioner', [])):
            fact.append('Patient/' + b.pid)
    Q('demo', b, question, 'answer', [fact], [], category, f"{disp} ({role})")


def active_meds(b, rx=None):
    return [m for m in b.of('MedicationRequest') if m['status'] == 'active' and (not rx or re.search(rx, cc(m['medicationCodeableConcept']), re.I))]


def med_fact(b, m):
    name = cc(m['medicationCodeableConcept'])
    first = name.split()[0]
    dose = re.search(r'(\d+(?:\.\d+)?)\s*(mg|mcg|unt|units?)', ' '.join(d.get('text', '') for d in m.get('dosageInstruction', [])), re.I) \
        or re.search(r'(\d+(?:\.\d+)?)\s*(MG|MCG)', name)
    refs = ['MedicationRequest/' + m['id']]
    spans = []
    if dose:
        hits = b.note_support([re.escape(first), r'(?<![\d.])' + re.escape(dose.group(1)) + r'(?![\d.])'])
        refs += sorted({h[0] for h in hits})
        spans = [list(h) for h in hits]
    return refs, spans


def demo_med_q(b, question, rx, category='med-current-dose'):
    ms = active_meds(b, rx)
    if len(ms) != 1:
        SKIPPED.append((b.pid, question, 'meds %d' % len(ms))); return
    m = ms[0]
    fact, spans = med_fact(b, m)
    Q('demo', b, question, 'answer', [fact], spans, category,
      f"{cc(m['medicationCodeableConcept'])}: {m['dosageInstruction'][0]['text']} (active)")


def demo_medlist_q(b, question, category='med-list-current'):
    facts, spans, names = [], [], []
    for m in active_meds(b):
        f, s = med_fact(b, m)
        facts.append(f); spans += s; names.append(cc(m['medicationCodeableConcept']).split(' ')[0] + ' ' + m['dosageInstruction'][0]['text'])
    Q('demo', b, question, 'answer', facts, spans, category, '; '.join(names))


def demo_stopped_q(b, question, rx, category='med-stopped'):
    ms = [m for m in b.of('MedicationRequest') if m['status'] == 'stopped' and re.search(rx, cc(m['medicationCodeableConcept']), re.I)]
    if len(ms) != 1:
        SKIPPED.append((b.pid, question, 'stopped %d' % len(ms))); return
    m = ms[0]
    note = '; '.join(n['text'] for n in m.get('note', []))
    cur = active_meds(b, re.escape(cc(m['medicationCodeableConcept']).split()[0]))
    facts = [['MedicationRequest/' + m['id']]]
    tr = f"{cc(m['medicationCodeableConcept'])} {m['dosageInstruction'][0]['text']} stopped ({note or 'no reason given'})"
    if cur and 'dose changed' in note:
        facts.append(['MedicationRequest/' + c['id'] for c in cur])
        tr += '; now ' + '; '.join(c['dosageInstruction'][0]['text'] for c in cur)
    Q('demo', b, question, 'answer', facts, [], category, tr)


def inpatient(b):
    e = [x for x in b.of('Encounter') if x['class'].get('code') == 'IMP']
    e.sort(key=lambda x: x['period']['start'])
    return e


def demo_admit_q(b, question, kind):
    enc = inpatient(b)
    if not enc:
        SKIPPED.append((b.pid, question, 'no IMP')); return
    e = enc[-1]
    s, en = e['period']['start'][:10], e['period']['end'][:10]
    ref = 'Encounter/' + e['id']
    ds = [did for did, (t, d) in b.notes.items() if 'Discharge' in t[:80] and d[:10] == en]
    fact, spans = [ref], []
    def mdY(x):
        d = date.fromisoformat(x); return d.strftime('%B ') + str(d.day) + d.strftime(', %Y')
    if kind == 'admit':
        for did in ds:
            t = b.notes[did][0]; h = line_headers(t)
            i = t.find('Admission date: ' + mdY(s))
            if i < 0:
                i = t.find('Admit date: ' + mdY(s))
            if i >= 0:
                fact.append('DocumentReference/' + did); spans.append(['DocumentReference/' + did, *section_at(t, i, h)])
        Q('demo', b, question, 'answer', [fact], spans, 'admission-date', f"admitted {s} ({cc(e['type'][0])})")
    elif kind == 'discharge':
        for did in ds:
            t = b.notes[did][0]; h = line_headers(t)
            i = t.find('Discharge date: ' + mdY(en))
            if i >= 0:
                fact.append('DocumentReference/' + did); spans.append(['DocumentReference/' + did, *section_at(t, i, h)])
        Q('demo', b, question, 'answer', [fact], spans, 'discharge-date', f"discharged {en}")
    elif kind == 'los':
        los = (date.fromisoformat(en) - date.fromisoformat(s)).days
        Q('demo', b, question, 'answer', [fact], [], 'length-of-stay', f"{los} days ({s} to {en})")
    elif kind == 'reason':
        reason = cc(e['type'][0]).replace('Inpatient admission - ', '')
        Q('demo', b, question, 'answer', [fact], [], 'admission-reason', f"{reason} ({s} to {en})")


def demo_section_q(b, question, doc_rx, hdr_rx, category, truth_prefix=''):
    """whole section of a note; doc chosen by first-line regex (latest such doc)."""
    cands = sorted([(d, did) for did, (t, d) in b.notes.items() if re.search(doc_rx, t.split('\n')[0] + '\n' + t[:300], re.I)])
    if not cands:
        SKIPPED.append((b.pid, question, 'no doc')); return
    did = cands[-1][1]
    t = b.notes[did][0]
    h = line_headers(t)
    m = re.search(hdr_rx, t, re.M | re.I)
    if not m:
        SKIPPED.append((b.pid, question, 'no header')); return
    s, e = section_at(t, m.start(), h)
    body = t[s:e].split('\n', 1)[1].strip() if '\n' in t[s:e] else t[s:e]
    Q('demo', b, question, 'answer', [['DocumentReference/' + did]], [['DocumentReference/' + did, s, e]], category,
      truth_prefix + body.replace('\n', ' ')[:220])


def next_appt(b, rx=None):
    ap = [a for a in b.of('Appointment') if a['status'] == 'booked' and a['start'][:10] >= AS_OF and (not rx or re.search(rx, (a.get('description') or '') + ' ' + ' '.join(cc(s) for s in a.get('serviceType', [])), re.I))]
    ap.sort(key=lambda a: a['start'])
    return ap


def demo_appt_q(b, question, rx=None, category='appointment-next'):
    ap = next_appt(b, rx)
    if not ap:
        SKIPPED.append((b.pid, question, 'no appt')); return
    a = ap[0]
    who = [p['actor'].get('display') for p in a['participant'] if 'Practitioner' in p['actor'].get('reference', '')]
    Q('demo', b, question, 'answer', [['Appointment/' + a['id']]], [], category,
      f"{a.get('description')} {a['start'][:16]} with {', '.join(who)}")


def demo_task_q(b, question, rx, category='task-status'):
    ts = [t for t in b.of('Task') if re.search(rx, t.get('description') or '', re.I)]
    if len(ts) != 1:
        SKIPPED.append((b.pid, question, 'tasks %d' % len(ts))); return
    t = ts[0]
    due = (t.get('restriction') or {}).get('period', {}).get('end', '')[:10]
    od = ' (overdue)' if due and due < AS_OF and t['status'] not in ('completed', 'cancelled') else ''
    Q('demo', b, question, 'answer', [['Task/' + t['id']]], [], category,
      f"{t['description']}: {t['status']}{od}, due {due}; {'; '.join(n['text'] for n in t.get('note', []))}")


def demo_sr_q(b, question, rx, category='referral-status'):
    ss = [s for s in b.of('ServiceRequest') if re.search(rx, cc(s['code']), re.I)]
    if len(ss) != 1:
        SKIPPED.append((b.pid, question, 'sr %d' % len(ss))); return
    s = ss[0]
    Q('demo', b, question, 'answer', [['ServiceRequest/' + s['id']]], [], category,
      f"{cc(s['code'])}: {s['status']}; {'; '.join(n['text'] for n in s.get('note', []))}")


def demo_cond_q(b, question, rx, category='condition-onset'):
    cs = [c for c in b.of('Condition') if re.search(rx, cc(c['code']), re.I)]
    if len(cs) != 1:
        SKIPPED.append((b.pid, question, 'cond %d' % len(cs))); return
    c = cs[0]
    Q('demo', b, question, 'answer', [['Condition/' + c['id']]], [], category,
      f"{cc(c['code'])}, onset {c.get('onsetDateTime', '')[:10]}, {cc(c.get('clinicalStatus'))}")


def demo_problems_q(b, question):
    cs = [c for c in b.of('Condition') if (cc(c.get('clinicalStatus')) or '').lower() == 'active']
    Q('demo', b, question, 'answer', [['Condition/' + c['id']] for c in cs], [], 'problem-list',
      '; '.join(cc(c['code']) for c in cs))


def demo_careplan_q(b, question, status=None, category='care-plan'):
    ps = [p for p in b.of('CarePlan') if p['status'] == 'active']
    if len(ps) != 1:
        SKIPPED.append((b.pid, question, 'plans')); return
    p = ps[0]
    acts = [(a['detail'].get('description'), a['detail'].get('status')) for a in p.get('activity', [])]
    if status:
        acts = [a for a in acts if a[1] in status]
    if not acts:
        SKIPPED.append((b.pid, question, 'no acts')); return
    Q('demo', b, question, 'answer', [['CarePlan/' + p['id']] for _ in acts], [], category,
      f"{p.get('title')}: " + '; '.join(f"{a[0]} ({a[1]})" for a in acts))


def demo_cpap_q(b, question):
    ss = [s for s in b.of('ServiceRequest') if 'CPAP' in cc(s['code'])]
    if len(ss) != 1:
        SKIPPED.append((b.pid, question, 'cpap')); return
    s = ss[0]
    note = s['note'][0]['text']
    m = re.search(r'(auto-CPAP [\d-]+ cm H2O|CPAP \d+ cm H2O)', note)
    setting = m.group(1)
    num = re.search(r'[\d-]+(?= cm)', setting).group(0)
    hits = b.note_support([r'CPAP', re.escape(num) + r'\s*cm'])
    fact = ['ServiceRequest/' + s['id']] + sorted({h[0] for h in hits})
    Q('demo', b, question, 'answer', [fact], [list(h) for h in hits], 'device-setting', f"{setting} ({note})")


def demo_o2_q(b, question):
    ss = [s for s in b.of('ServiceRequest') if 'oxygen' in cc(s['code']).lower()]
    if len(ss) != 1:
        SKIPPED.append((b.pid, question, 'o2')); return
    s = ss[0]
    note = s['note'][0]['text']
    lpm = re.search(r'(\d+) L/min', note).group(1)
    hits = b.note_support([r'oxygen|O2', re.escape(lpm) + r'\s*(L|liters?)'])
    fact = ['ServiceRequest/' + s['id']] + sorted({h[0] for h in hits})
    fact += b.row_support([r'oxygen', re.escape(lpm) + r' L/min'], types=('CarePlan',))
    Q('demo', b, question, 'answer', [fact], [list(h) for h in hits], 'home-oxygen', f"home O2 {lpm} L/min ({note})")


def demo():
    LAB = {'cr': {'2160-0'}, 'k': {'2823-3'}, 'bnp': {'30934-4'}, 'a1c': {'4548-4'}, 'ldl': {'13457-7', '18262-6'},
           'egfr': {'33914-3', '62238-1', '48642-3', '48643-1'}, 'wt': {'29463-7'}, 'spo2': {'59408-5', '2708-6'},
           'inr': {'6301-6', '34714-6'}, 'phq': {'44261-6'}, 'audit': {'75626-2'}}
    b = D(1)  # Stanley Delgado, CHF admit
    lab_q('demo', b, 'last K?', LAB['k'], 'potassium', r'potassium|\bK\b')
    demo_admit_q(b, 'when was he dc\'d from mercy', 'discharge')
    demo_section_q(b, 'd/c meds from the discharge summary pls', r'^Discharge Summary', r'^(# )?Discharge medications:?\s*$', 'section:discharge medications')
    demo_sr_q(b, 'did he ever go to cardiac rehab', r'cardiac rehab', 'referral-status')
    demo_team_q(b, 'who is the home heath RN', r'home health', 'care-team:home health')
    Q('demo', b, 'what meds is his wife on', 'decline', [], [], 'other-person', "wife is mentioned only as a phone contact; her medications are not in this record")

    b = D(2)  # Eugene Lewis DM
    lab_q('demo', b, 'most recnet a1c', LAB['a1c'], 'HbA1c', r'A1c')
    demo_med_q(b, 'lantus dose now?', r'insulin glargine')
    demo_task_q(b, 'foot exam done yet?', r'foot exam')
    demo_team_q(b, 'who manages his psych meds', r'psychiatr', 'care-team:psychiatrist')

    b = D(9)  # John White hip fx
    demo_admit_q(b, 'LOS for the hip fx admit?', 'los')
    demo_stopped_q(b, 'is he still takign oxycodone', r'oxycodone')
    demo_task_q(b, 'ortho f/u booked? pt no showed i think', r'orthopedics follow-up', 'task-status')
    demo_careplan_q(b, 'whats outstanding on the hip fx care plan', status=('not-started',), category='care-plan-open')

    b = D(10)  # Grace Ramirez COPD
    demo_o2_q(b, 'home O2? how many liters')
    demo_appt_q(b, 'when is her pulm f/u', r'pulmonology')
    lab_q('demo', b, 'sat at discharge?', LAB['spo2'], 'SpO2', r'SpO2|sat', category='vital-latest')
    demo_team_q(b, 'pcp?', r'primary care', 'pcp')

    b = D(11)  # Denise Torres (older)
    demo_med_q(b, 'coreg dose', r'carvedilol')
    demo_task_q(b, 'was the post dc BMP drawn', r'BMP', 'task-status')

    b = D(12)
    demo_med_q(b, 'zolfot dose', r'sertraline')
    decline_if_absent('demo', b, 'any drug allergies on file', ['allerg', 'nkda', 'nka'], 'absent-allergy', 'no allergy information anywhere in the record')

    b = D(13)
    lab_q('demo', b, 'latest creat', LAB['cr'], 'creatinine', r'creatinine')
    demo_task_q(b, 'cards appt within 2 wks of dc - done?', r'cardiology appointment', 'task-status')

    b = D(14)
    demo_admit_q(b, 'admit date for the CHF exacerbation', 'admit')
    demo_team_q(b, 'who is her cardiolgist', r'^cardiology$', 'care-team:cardiology')
    decline_if_absent('demo', b, 'is she on eliquis or any anticoagulant', ['apixaban', 'eliquis', 'warfarin', 'coumadin', 'rivaroxaban', 'xarelto', 'dabigatran', 'anticoag', 'heparin', 'enoxaparin', 'edoxaban'], 'absent-drug', 'no anticoagulant in record')

    b = D(15)  # Thomas Campbell AF warfarin
    lab_q('demo', b, 'last INR', LAB['inr'], 'INR', r'INR')
    demo_med_q(b, 'coumadin doze?', r'warfarin')
    demo_cond_q(b, 'how long has he had afib', r'atrial fib', 'condition-onset')

    b = D(16)
    lab_q('demo', b, 'phq9 trend - latest score?', LAB['phq'], 'PHQ-9', r'PHQ-9', category='score-latest')
    demo_cond_q(b, 'when was GAD dx', r'anxiety', 'condition-onset')

    b = D(17)
    demo_sr_q(b, 'pulm rehab status', r'pulmonary rehab', 'referral-status')
    demo_cpap_q(b, 'cpap presure?')
    decline_if_absent('demo', b, 'was he vaccinated for flu this yr', ['influenza', 'flu shot', 'flu vaccine', 'vaccin', 'immuniz'], 'absent-immunization', 'no immunization data in record')

    b = D(18)
    demo_sr_q(b, 'endo referral - why on hold', r'endocrinology', 'referral-status')
    demo_medlist_q(b, 'full active med lsit please')

    b = D(19)
    lab_q('demo', b, 'most recent wt', LAB['wt'], 'weight', r'weigh|\bwt\b', category='vital-latest')
    demo_team_q(b, 'who\'s the care coordinator', r'care coordinator$', 'care-team:care coordinator')
    demo_task_q(b, 'post-dc cards visit booked?', r'cardiology visit', 'task-status')

    b = D(20)
    demo_stopped_q(b, 'why was the sertraline 50 stopped', r'sertraline')
    decline_if_absent('demo', b, 'what was his last A1C', ['a1c', 'hba1c', 'glycated', 'glycohemoglobin', '4548-4'], 'absent-lab', 'no HbA1c in record')

    b = D(25)
    demo_admit_q(b, 'reason for last admision?', 'reason')
    lab_q('demo', b, 'bnp on dc?', LAB['bnp'], 'BNP', r'BNP')

    b = D(26)
    lab_q('demo', b, 'eGFR?', LAB['egfr'], 'eGFR', r'eGFR|GFR')
    demo_med_q(b, 'suboxone dose', r'buprenorphine', 'med-current-dose')
    demo_problems_q(b, 'active problem list')

    b = D(27)
    demo_admit_q(b, 'when did she go home from the hosptial', 'discharge')
    demo_med_q(b, 'is she on spironolactone? dose?', r'spironolactone')

    b = D(28)
    demo_team_q(b, 'therapist name?', r'therapist', 'care-team:therapist')

    b = D(29)
    demo_med_q(b, 'advair dose', r'fluticasone', 'med-current-dose')
    demo_admit_q(b, 'how many days was she in for the copd flare', 'los')
    decline_if_absent('demo', b, 'code status?', ['code status', 'dnr', 'full code', 'polst', 'molst', 'do not resuscitate'], 'absent-code-status', 'no code status documented')

    b = D(41)
    demo_task_q(b, 'pulm follow up — did we ever get him rebooked', r'pulmonology', 'task-status')
    demo_section_q(b, 'hospital course from the dc summary', r'^Discharge Summary|DISCHARGE SUMMARY', r'^(# )?Hospital course:?\s*$', 'section:hospital course')

    b = D(42)
    demo_stopped_q(b, 'metformin 500 d/c\'d why', r'metformin')

    b = D(43)
    demo_med_q(b, 'entresto dsoe', r'sacubitril')

    b = D(44)
    lab_q('demo', b, 'PHQ9', LAB['phq'], 'PHQ-9', r'PHQ', category='score-latest')

    b = D(45)
    demo_appt_q(b, 'ortho post-op visit when', r'orthopedics')
    demo_med_q(b, 'lovenox how long', r'enoxaparin')

    b = D(3)
    b = D(5)
    demo_careplan_q(b, 'care plan goals?')
    b = D(6)
    demo_team_q(b, 'whos his PCP', r'primary care', 'pcp')
    b = D(7)
    demo_medlist_q(b, 'current meds')
    b = D(8)
    demo_task_q(b, 'transportation / bus pass?', r'bus pass')

    # other-patient decline: ask chart X about a different named patient
    b = D(21)
    decline_if_absent('demo', b, "what's Eugene Lewis's last a1c", ['eugene lewis'], 'other-patient', 'Eugene Lewis is a different patient; not in this chart')
    b = D(22)
    decline_if_absent('demo', b, 'is Stanley Delgado still on furosemide 40 bid?', ['stanley delgado'], 'other-patient', 'asks about another patient (Stanley Delgado)')
    b = D(23)
    decline_if_absent('demo', b, 'home health agency for her?', ['home health'], 'absent-home-health', 'no home health in record')
    b = D(24)
    decline_if_absent('demo', b, 'nephrologist?', ['nephrolog', 'kidney'], 'absent-team-member', 'no nephrology on record')
    b = D(30)
    decline_if_absent('demo', b, 'last TSH', ['tsh', 'thyroid', 'thyrotropin'], 'absent-lab', 'no TSH in record')
    b = D(31)
    decline_if_absent('demo', b, 'any hx of colonoscopy', ['colonoscopy'], 'absent-procedure', 'no colonoscopy in record')
    b = D(32)
    decline_if_absent('demo', b, 'smoker? pk yrs?', ['smok', 'tobacco', 'cigar', 'nicotine', 'pack-year', 'pack year'], 'absent-social', 'no tobacco history documented')
    b = D(33)
    decline_if_absent('demo', b, 'pt on insulin?', ['insulin', 'glargine', 'lantus', 'humalog', 'lispro', 'aspart', 'novolog'], 'absent-drug', 'no insulin in record')
    b = D(34)
    b = D(35)
    decline_if_absent('demo', b, 'what did her daughter say at the last visit?', ['daughter'], 'other-person', 'no daughter documented in record')
    b = D(37)
    decline_if_absent('demo', b, 'does she need an interpreter / preferred language?', ['language', 'interpreter', 'communication'], 'absent-demographic', 'no language/interpreter info in record')
    b = D(39)
    decline_if_absent('demo', b, 'what did the brain MRI show', ['mri', 'magnetic resonance'], 'absent-imaging', 'no MRI in record')
    b = D(46)
    decline_if_absent('demo', b, 'did Martha Hall ever get her post-discharge BMP drawn', ['martha hall'], 'other-patient', 'Martha Hall is a different patient')


# ================================================================ SYNTHEA
def S_load():
    out = {}
    for f in sorted(glob.glob(SYN1 + '/*.json')) + sorted(glob.glob(SYN2 + '/*.json')):
        if 'Information' in f:
            continue
        b = Bundle(f)
        out[b.pat['name'][0]['given'][0] + ' ' + b.pat['name'][0]['family']] = b
    return out


def syn_same_date_notes(b, when, rx):
    hits = b.note_support([rx], same_date=when[:10])
    return hits


def syn_imm_q(b, question, rx, category='immunization-latest'):
    im = [i for i in b.of('Immunization') if re.search(rx, cc(i['vaccineCode']), re.I)]
    if not im:
        SKIPPED.append((b.pid, question, 'no imm')); return
    m = max(i['occurrenceDateTime'][:10] for i in im)
    top = [i for i in im if i['occurrenceDateTime'][:10] == m]
    hits = syn_same_date_notes(b, m, rx)
    fact = ['Immunization/' + i['id'] for i in top] + sorted({h[0] for h in hits})
    Q('synthea', b, question, 'answer', [fact], [list(h) for h in hits], category, f"{cc(top[0]['vaccineCode'])} on {m}")


def syn_allergy_q(b, question):
    al = b.of('AllergyIntolerance')
    if not al:
        SKIPPED.append((b.pid, question, 'no allergies')); return
    if b.notes and any('No Known Allergies' in t for t, _ in b.notes.values()):
        SKIPPED.append((b.pid, question, 'notes conflict')); return
    facts = [['AllergyIntolerance/' + a['id']] for a in al]
    Q('synthea', b, question, 'answer', facts, [], 'allergies', '; '.join(cc(a['code']) + ('' if (cc(a.get('clinicalStatus')) or a.get('clinicalStatus', {}).get('coding', [{}])[0].get('code')) == 'active' else ' (' + str(a.get('clinicalStatus', {}).get('coding', [{}])[0].get('code')) + ')') for a in al))


def syn_activemeds_q(b, question):
    if b.notes:
        SKIPPED.append((b.pid, question, 'has notes')); return
    ms = [m for m in b.of('MedicationRequest') if m['status'] == 'active']
    if not ms:
        SKIPPED.append((b.pid, question, 'no active')); return
    names = sorted({cc(m['medicationCodeableConcept']) for m in ms})
    facts = [['MedicationRequest/' + m['id'] for m in ms if cc(m['medicationCodeableConcept']) == n] for n in names]
    Q('synthea', b, question, 'answer', facts, [], 'med-list-current', '; '.join(names))


def syn_cond_q(b, question, rx, category='condition-onset'):
    cs = [c for c in b.of('Condition') if re.search(rx, cc(c['code']), re.I)]
    if not cs:
        SKIPPED.append((b.pid, question, 'no cond')); return
    first = min(c['onsetDateTime'][:10] for c in cs)
    top = [c for c in cs if c['onsetDateTime'][:10] == first]
    hits = b.note_support([r'presenting with .*' + rx], same_date=first) if b.notes else []
    fact = ['Condition/' + c['id'] for c in top] + sorted({h[0] for h in hits})
    st = top[0].get('clinicalStatus', {}).get('coding', [{}])[0].get('code')
    Q('synthea', b, question, 'answer', [fact], [list(h) for h in hits], category, f"{cc(top[0]['code'])} onset {first} ({st})")


def syn_last_enc_q(b, question, cls, category):
    es = [e for e in b.of('Encounter') if e['class'].get('code') == cls]
    if not es:
        SKIPPED.append((b.pid, question, 'no enc')); return
    e = max(es, key=lambda x: x['period']['start'])
    rs = [cc(x) for x in e.get('reasonCode', [])]
    hits = b.note_support([re.escape(rs[0].split()[0])], same_date=e['period']['start'][:10]) if (b.notes and rs) else []
    Q('synthea', b, question, 'answer', [['Encounter/' + e['id']] + sorted({h[0] for h in hits})], [list(h) for h in hits], category,
      f"{cc(e['type'][0])} on {e['period']['start'][:10]}" + (f" for {', '.join(rs)}" if rs else ''))


def syn_proc_q(b, question, rx, category='procedure-latest'):
    ps = [p for p in b.of('Procedure') if re.search(rx, cc(p['code']), re.I)]
    if not ps:
        SKIPPED.append((b.pid, question, 'no proc')); return
    def pdate(p):
        return (p.get('performedPeriod') or {}).get('start') or p.get('performedDateTime')
    m = max(pdate(p)[:10] for p in ps)
    top = [p for p in ps if pdate(p)[:10] == m]
    hits = b.note_support([rx], same_date=m) if b.notes else []
    fact = ['Procedure/' + p['id'] for p in top] + sorted({h[0] for h in hits})
    Q('synthea', b, question, 'answer', [fact], [list(h) for h in hits], category, f"{cc(top[0]['code'])} on {m}")


def synthea():
    S = S_load()
    BP = {'85354-9', '55284-4'}
    WT = {'29463-7'}
    BMI = {'39156-5'}
    A1C = {'4548-4'}
    CR = {'2160-0', '38483-4'}
    GLU = {'2339-0', '2345-7'}
    HGB = {'718-7'}
    CHOL = {'2093-3'}
    LDL = {'18262-6', '13457-7', '2089-1'}
    HR = {'8867-4'}
    SMK = {'72166-2'}
    K = {'2823-3', '6298-4'}
    EGFR = {'33914-3', '62238-1', '48642-3', '48643-1', '98979-8', '69405-9'}

    b = S['Alvin56 Jerde200']
    lab_q('synthea', b, 'last BP?', BP, 'BP', None, category='vital-latest')
    lab_q('synthea', b, 'most recent a1c', A1C, 'HbA1c', r'a1c')
    syn_imm_q(b, 'when was his last flu shot', r'influenza')
    b = S['Ardath226 Feeney44']
    lab_q('synthea', b, 'latest wieght', WT, 'weight', None, category='vital-latest')
    syn_proc_q(b, 'last colonscopy?', r'colonoscopy')
    decline_if_absent('synthea', b, 'is she on warfarin', ['warfarin', 'coumadin', 'jantoven'], 'absent-drug', 'no warfarin in record')
    b = S['Breana975 Harvey63']
    lab_q('synthea', b, 'hgb?', HGB, 'hemoglobin', None)
    syn_last_enc_q(b, 'last ER visit - when and why', 'EMER', 'er-visit-latest')
    b = S['Daniel959 Villaseñor332']
    lab_q('synthea', b, 'most recent Cr', CR, 'creatinine', None)
    lab_q('synthea', b, 'BMI', BMI, 'BMI', None, category='vital-latest')
    syn_cond_q(b, 'when was the prediabetes first picked up', r'prediabetes')
    b = S['Ellsworth48 Kihn564']
    lab_q('synthea', b, 'smokign status?', SMK, 'tobacco smoking status', None, category='social-tobacco')
    decline_if_absent('synthea', b, 'last INR', ['inr', 'prothrombin', 'coagulation'], 'absent-lab', 'no INR in record')
    b = S['Juana825 Pagan507']
    lab_q('synthea', b, 'total cholesterl last checked?', CHOL, 'total cholesterol', None)
    decline_if_absent('synthea', b, 'who\'s her cardiologist', ['cardiolog'], 'absent-team-member', 'no cardiologist in record')
    b = S['Rich940 Schumm995']
    lab_q('synthea', b, 'HR at last visit', HR, 'heart rate', None, category='vital-latest')
    syn_imm_q(b, 'last flu vaccine?', r'influenza')
    b = S['Rosa195 Kerluke267']
    decline_if_absent('synthea', b, 'does she have a pacemaker', ['pacemaker', 'pacing'], 'absent-device', 'no pacemaker in record')
    lab_q('synthea', b, 'pt\'s latest bmi', BMI, 'BMI', None, category='vital-latest')
    b = S['Rosie394 Gutmann970']
    lab_q('synthea', b, 'last wt', WT, 'weight', None, category='vital-latest')
    decline_if_absent('synthea', b, 'is she on dialysis', ['dialysis', 'hemodialysis', 'end-stage renal', 'end stage renal'], 'absent-procedure', 'no dialysis in record')
    b = S['Tiffaney302 Vandervort697']
    lab_q('synthea', b, 'bp most recent', BP, 'BP', None, category='vital-latest')
    syn_last_enc_q(b, 'when was her last ED visit', 'EMER', 'er-visit-latest')
    # healthwallet (no notes)
    b = S['Desiree125 Kling921']
    lab_q('synthea', b, 'last weight', WT, 'weight', None, category='vital-latest')
    b = S['Devin82 Frami345']
    syn_imm_q(b, 'MMR given? date', r'MMR')
    b = S['Dewitt635 Haag279']
    syn_allergy_q(b, 'any alergies on file')
    decline_if_absent('synthea', b, 'hx of MI?', ['myocardial infarction', 'heart attack', ' mi '], 'absent-condition', 'no MI in record')
    b = S['Dolores502 Peres371']
    lab_q('synthea', b, 'what was her last blood pressure', BP, 'BP', None, category='vital-latest')
    b = S['Donnell534 Macejkovic424']
    lab_q('synthea', b, 'how tall is he - last height', {'8302-2'}, 'height', None, category='vital-latest')
    b = S['Doretha289 Haley279']
    syn_activemeds_q(b, 'current meds?')
    b = S['Dorian295 Smitham825']
    lab_q('synthea', b, 'Creatinine?', CR, 'creatinine', None)
    b = S['Dylan44 Olson653']
    dd = b.pat.get('deceasedDateTime')
    if dd:
        Q('synthea', b, 'is this pt deceased? date?', 'answer', [['Patient/' + b.pid]], [], 'deceased', f'deceased {dd[:10]}')
    b = S['Elenor843 Smith67']
    syn_imm_q(b, 'HPV vaccine given?', r'HPV')
    decline_if_absent('synthea', b, 'her oncologist?', ['oncolog', 'cancer', 'neoplasm', 'chemotherapy'], 'absent-team-member', 'no oncology in record')
    b = S['Elias404 Marks830']
    syn_activemeds_q(b, 'med rec - active scripts?')
    b = S['Elias404 Oberbrunner298']
    syn_allergy_q(b, 'allergies? NKDA?')
    decline_if_absent('synthea', b, 'is he on metformin', ['metformin', 'glucophage'], 'absent-drug', 'no metformin in record')
    b = S['Elliot577 Beer512']
    syn_allergy_q(b, 'allergy list')
    Q('synthea', b, "what's his mom's allergy list", 'decline', [], [], 'other-person', "mother's allergies are not in the child's record")
    b = S['Elvin140 Bartell116']
    syn_imm_q(b, 'last flu shot', r'influenza')
    decline_if_absent('synthea', b, 'any seizure hx', ['seizure', 'epilep', 'convuls'], 'absent-condition', 'no seizure history in record')
    b = S['Emanuel231 Champlin946']
    syn_last_enc_q(b, 'last office visit when', 'AMB', 'encounter-latest')
    b = S['Enedina292 Kiehn525']
    lab_q('synthea', b, 'wt?', WT, 'weight', None, category='vital-latest')
    decline_if_absent('synthea', b, "what's Desiree Kling's weight", ['desiree', 'kling'], 'other-patient', 'different patient')


# ================================================================ MTSAMPLES
ROWS = None


def mts_rows():
    global ROWS
    if ROWS is None:
        ROWS = {r['note_id']: r for r in csv.DictReader(open(MTS))}
    return ROWS


def mts_sections(t):
    return [(m.start(1), m.group(1).strip()) for m in MTS_HDR.finditer(t)]


USED_MTS = set()


def mts_find(hdr_rx, minlen=15, maxlen=700, spec=None, exclude_words=(), require=None, skip=0):
    """pick first report (by note_id) having a header matching hdr_rx with content length in range."""
    rows = mts_rows()
    n = 0
    for nid in sorted(rows, key=lambda x: int(x)):
        if nid in USED_MTS:
            continue
        r = rows[nid]
        if spec and r['medical_specialty'].strip() not in spec:
            continue
        t = r['transcription'].strip()
        if len(t) < 300:
            continue
        low = t.lower()
        if any(w in low for w in exclude_words):
            continue
        if require and not re.search(require, t, re.I):
            continue
        secs = mts_sections(t)
        hits = [i for i, (s, h) in enumerate(secs) if re.fullmatch(hdr_rx, h)]
        if len(hits) != 1:
            continue
        i = hits[0]
        s = secs[i][0]
        e = secs[i + 1][0] if i + 1 < len(secs) else len(t)
        body = t[s + len(secs[i][1]) + 1:e].strip(' ,.')
        if not (minlen <= len(body) <= maxlen):
            continue
        while e > s and t[e - 1] in ' ,':
            e -= 1
        if n < skip:
            n += 1; continue
        USED_MTS.add(nid)
        return nid, t, s, e, body
    return None


def mts_q(question, hdr_rx, category, **kw):
    f = mts_find(hdr_rx, **kw)
    if not f:
        SKIPPED.append(('mts', question, 'none found')); return
    nid, t, s, e, body = f
    d = 'DocumentReference/mts-doc-' + nid
    Q('mtsamples', 'mts-' + nid, question, 'answer', [[d]], [[d, s, e]], category, body[:220])


def mts_decline(question, words, category, why, spec=None, require_hdr=None):
    rows = mts_rows()
    for nid in sorted(rows, key=lambda x: int(x)):
        if nid in USED_MTS:
            continue
        r = rows[nid]
        if spec and r['medical_specialty'].strip() not in spec:
            continue
        t = r['transcription'].strip()
        if len(t) < 500:
            continue
        low = t.lower()
        if any(w in low for w in words):
            continue
        if require_hdr and not any(re.fullmatch(require_hdr, h) for _, h in mts_sections(t)):
            continue
        USED_MTS.add(nid)
        Q('mtsamples', 'mts-' + nid, question, 'decline', [], [], category, why)
        return
    SKIPPED.append(('mts', question, 'none'))


def mtsamples():
    C = 'Consult - History and Phy.'
    mts_q('allergies?', r'ALLERGIES', 'section:allergies', spec={C}, minlen=4, maxlen=120)
    mts_q('NKDA?', r'ALLERGIES', 'section:allergies', spec={'Cardiovascular / Pulmonary'}, minlen=4, maxlen=120, require=r'ALLERGIES:\s*,?\s*(NKDA|No known)')
    mts_q('social hx', r'SOCIAL HISTORY', 'section:social history', spec={C}, minlen=40, maxlen=500)
    mts_q('does she smoke or drink', r'SOCIAL HISTORY', 'section:social history', spec={'General Medicine'}, minlen=40, maxlen=500, require=r'SOCIAL HISTORY:[^:]{0,300}(smok|tobacco)')
    mts_q('etoh/tobacco use?', r'SOCIAL HISTORY', 'section:social history', spec={'Cardiovascular / Pulmonary'}, minlen=30, maxlen=500, require=r'SOCIAL HISTORY:[^:]{0,300}(alcohol|etoh)')
    mts_q('who does pt live with', r'SOCIAL HISTORY', 'section:social history', spec={'Neurology', 'Orthopedic'}, minlen=30, maxlen=500, require=r'SOCIAL HISTORY:[^:]{0,200}lives with')
    mts_q('fam hx?', r'FAMILY HISTORY', 'section:family history', spec={C}, minlen=20, maxlen=400)
    mts_q('any family history of heart disease', r'FAMILY HISTORY', 'section:family history', spec={'Cardiovascular / Pulmonary'}, minlen=20, maxlen=400, require=r'FAMILY HISTORY:[^:]{0,300}(heart|coronary|cardiac)')
    mts_q('PMH', r'PAST MEDICAL HISTORY', 'section:past medical history', spec={C}, minlen=20, maxlen=500)
    mts_q('prior surgeires?', r'PAST SURGICAL HISTORY', 'section:past surgical history', spec={C}, minlen=10, maxlen=400)
    mts_q('PSH', r'PAST SURGICAL HISTORY', 'section:past surgical history', spec={'Orthopedic'}, minlen=10, maxlen=400)
    mts_q('home meds?', r'(CURRENT )?MEDICATIONS', 'section:medications', spec={C}, minlen=10, maxlen=500)
    mts_q('cc?', r'CHIEF COMPLAINT', 'section:chief complaint', spec={'Emergency Room Reports'}, minlen=3, maxlen=200)
    mts_q('why is she here - chief complaint', r'CHIEF COMPLAINT', 'section:chief complaint', spec={'General Medicine'}, minlen=3, maxlen=200)
    mts_q('can you summarize the HPI for me', r'HISTORY OF PRESENT ILLNESS', 'section:hpi', spec={'Emergency Room Reports'}, minlen=50, maxlen=900)
    mts_q('brief hpi', r'HISTORY OF PRESENT ILLNESS', 'section:hpi', spec={'Nephrology'}, minlen=50, maxlen=900)
    mts_q('what was the assessment', r'ASSESSMENT', 'section:assessment', spec={'SOAP / Chart / Progress Notes'}, minlen=10, maxlen=500)
    mts_q('impresion?', r'IMPRESSION', 'section:impression', spec={'Radiology'}, minlen=10, maxlen=500)
    mts_q('imp on the ct', r'IMPRESSION', 'section:impression', spec={'Radiology'}, minlen=10, maxlen=500, require=r'\bCT\b')
    mts_q('what\'s the plan', r'PLAN', 'section:plan', spec={'SOAP / Chart / Progress Notes'}, minlen=10, maxlen=500)
    mts_q('preop dx', r'PREOPERATIVE DIAGNOSIS', 'section:preoperative diagnosis', spec={'Surgery'}, minlen=5, maxlen=200)
    mts_q('post-op diagnosis?', r'POSTOPERATIVE DIAGNOSIS', 'section:postoperative diagnosis', spec={'Orthopedic'}, minlen=5, maxlen=200)
    mts_q('what procedure was done', r'PROCEDURE(S)?( PERFORMED)?', 'section:procedure', spec={'Surgery'}, minlen=5, maxlen=200)
    mts_q('EBL?', r'ESTIMATED BLOOD LOSS', 'section:estimated blood loss', spec={'Surgery'}, minlen=2, maxlen=80)
    mts_q('anesthesa type?', r'ANESTHESIA', 'section:anesthesia', spec={'Surgery'}, minlen=3, maxlen=100)
    mts_q('any complications', r'COMPLICATIONS', 'section:complications', spec={'Surgery'}, minlen=3, maxlen=100)
    mts_q('findings?', r'FINDINGS', 'section:findings', spec={'Radiology'}, minlen=20, maxlen=700)
    mts_q('specimens sent?', r'SPECIMENS?', 'section:specimen', spec={'Surgery'}, minlen=3, maxlen=150)
    mts_q('indication for the procedure', r'INDICATIONS?( FOR (THE )?(PROCEDURE|OPERATION))?', 'section:indications', spec={'Gastroenterology'}, minlen=10, maxlen=500)
    mts_q('hospital coures?', r'HOSPITAL COURSE', 'section:hospital course', spec={'Discharge Summary'}, minlen=40, maxlen=1200)
    mts_q('dc meds', r'DISCHARGE MEDICATIONS', 'section:discharge medications', spec={'Discharge Summary'}, minlen=10, maxlen=600)
    mts_q('dishcarge dx?', r'DISCHARGE DIAGNOS[EI]S', 'section:discharge diagnosis', spec={'Discharge Summary'}, minlen=5, maxlen=400)
    mts_q('dispo', r'DISPOSITION', 'section:disposition', spec={'Emergency Room Reports', 'Discharge Summary'}, minlen=3, maxlen=300)
    mts_q('vitals on exam?', r'VITAL SIGNS', 'section:vital signs', spec={C}, minlen=10, maxlen=300)
    mts_q('ROS', r'REVIEW OF SYSTEMS', 'section:review of systems', spec={'General Medicine'}, minlen=20, maxlen=600)
    mts_q('what labs did they have at the time of the consult', r'LABORATORY( DATA| STUDIES)?|LABS', 'section:labs', spec={C}, minlen=20, maxlen=600)
    mts_q('reason for consult', r'REASON FOR CONSULT(ATION)?', 'section:reason for consult', minlen=5, maxlen=300)
    mts_q('diagnosis?', r'DIAGNOSIS', 'section:diagnosis', spec={'Psychiatry / Psychology'}, minlen=5, maxlen=300)
    # declines: section/item absent
    mts_decline('allergies?', ['allerg', 'nkda', 'nka'], 'absent-section:allergies', 'report has no allergy information', spec={'Surgery'})
    mts_decline('any drug allergies', ['allerg', 'nkda', 'nka'], 'absent-section:allergies', 'report has no allergy information', spec={'Radiology'})
    mts_decline('tobaco use?', ['smok', 'tobacco', 'cigar', 'nicotine', 'pack'], 'absent-section:social history', 'no tobacco info in report', spec={'Orthopedic'})
    mts_decline('does he drink? etoh?', ['alcohol', 'etoh', 'drink', 'beer', 'wine', 'liquor'], 'absent-section:social history', 'no alcohol info in report', spec={'Urology'})
    mts_decline('last a1c?', ['a1c', 'glyco', 'hba1c', 'hemoglobin a'], 'absent-lab', 'no HbA1c in report', spec={'Cardiovascular / Pulmonary'})
    mts_decline('discharge date?', ['discharge', 'discharged'], 'absent-date', 'no discharge in report', spec={'Radiology'})
    mts_decline('family hx?', ['family history', 'family hx', 'mother', 'father', 'sister', 'brother', 'famil'], 'absent-section:family history', 'no family history in report', spec={'Gastroenterology'})
    mts_decline('home meds?', ['medication', 'meds', ' mg', 'taking'], 'absent-section:medications', 'no medication list in report', spec={'Radiology'})
    mts_decline("what's the wife's phone number", ['wife', 'spouse', 'phone', 'telephone'], 'other-person', 'wife not in report', spec={'Orthopedic'})
    mts_decline('what meds is her husband on', ['husband', 'spouse'], 'other-person', 'husband not in report', spec={'Obstetrics / Gynecology'})
    mts_decline('ef on echo?', ['ejection fraction', 'echo', ' ef '], 'absent-imaging', 'no EF/echo in report', spec={'Orthopedic'})
    mts_decline('when was her last colonoscopy', ['colonoscopy'], 'absent-procedure', 'no colonoscopy in report', spec={'Neurology'})
    mts_decline('covid vax status', ['covid', 'vaccin', 'immuniz'], 'absent-immunization', 'no immunization info', spec={'Neurology'})


def main():
    demo(); synthea(); mtsamples()
    for i, q in enumerate(OUT, 1):
        q['id'] = 'C-%03d' % i
    keys = ['id', 'world', 'patient_id', 'question', 'expect', 'expected_facts', 'expected_spans', 'category', 'truth']
    with open(os.path.join(HERE, 'questions.jsonl'), 'w') as f:
        for q in OUT:
            f.write(json.dumps({k: q[k] for k in keys}, ensure_ascii=False) + '\n')
    for s in SKIPPED:
        print('SKIPPED', s, file=sys.stderr)
    print(len(OUT), 'questions', file=sys.stderr)


if __name__ == '__main__':
    main()
