#!/usr/bin/env python3
"""Ground-truth builder for question set B (hospitalist + clinical pharmacist persona).

Reads only the data files named in CONTRACT.md, uses only the standard library,
and writes questions.jsonl next to this script.  Question wording is typed here by
hand (several phrasings per category); every answer, id, date and span is computed.
"""
import base64, csv, glob, json, os, random, re, sys
from datetime import date, datetime

HERE = os.path.dirname(os.path.abspath(__file__))
DEMO = '/work/authoring/data/demo'
SYN_DIRS = ['/work/shared/data/synthea_fhir/wasee11_synthea_v3',
            '/work/shared/data/synthea_fhir/healthwallet_synthea']
MTS = '/work/shared/data/mtsamples/mtsamples.csv'
AS_OF = json.load(open(os.path.join(DEMO, 'WORLD.json')))['as_of']  # 2026-11-20

rng = random.Random(20261120)
OUT = []


def add(world, pid, q, expect, facts, spans, cat, truth):
    if expect == 'decline':
        assert not facts and not spans, (pid, q)
    else:
        assert facts, (pid, q)
    OUT.append(dict(world=world, patient_id=pid, question=q, expect=expect,
                    expected_facts=facts, expected_spans=spans, category=cat, truth=truth))


# ---------------------------------------------------------------- generic note sections
LINE_HDR = [
    re.compile(r'^#+\s+\S'),                                   # markdown header
    re.compile(r"^[A-Z][A-Za-z0-9 /&()'\-]{1,50}:\s*$"),       # "Plan:" alone
    re.compile(r"^[A-Z][A-Za-z /&()'\-]{1,30}:\s+\S"),         # "Discharge date: July 1"
    re.compile(r"^[A-Z0-9][A-Z0-9 /&()'\-,.]{2,80}$"),         # ALL CAPS title line
]


def line_sections(text):
    """[(start,end)] sections: a header line up to the next header line."""
    starts = [0]
    pos = 0
    for line in text.split('\n'):
        s = line.strip()
        if s and pos != 0 and any(p.match(s) for p in LINE_HDR):
            if not re.match(r'^[-*\d]', s):
                starts.append(pos)
        pos += len(line) + 1
    starts = sorted(set(starts))
    secs = []
    for i, st in enumerate(starts):
        en = starts[i + 1] if i + 1 < len(starts) else len(text)
        seg = text[st:en]
        en = st + len(seg.rstrip())
        # skip leading blank lines
        lead = len(seg) - len(seg.lstrip())
        secs.append((st + lead, en))
    return secs


def section_at(text, idx, secs=None):
    secs = secs or line_sections(text)
    best = None
    for s, e in secs:
        if s <= idx < e and (best is None or e - s < best[1] - best[0]):
            best = (s, e)
    assert best, idx
    return best


# ---------------------------------------------------------------- FHIR loading
def decode(r):
    return base64.b64decode(r['content'][0]['attachment']['data']).decode('utf-8')


def cc_text(c):
    if not c:
        return ''
    return c.get('text') or (c.get('coding') or [{}])[0].get('display', '')


class Pt:
    def __init__(self, path):
        b = json.load(open(path))
        self.path = path
        self.res = [e['resource'] for e in b['entry']]
        self.by = {}
        for r in self.res:
            self.by.setdefault(r['resourceType'], []).append(r)
        self.p = self.by['Patient'][0]
        self.id = self.p['id']
        n = self.p['name'][0]
        self.given = n.get('given', [''])[0]
        self.family = n.get('family', '')
        self.name = f"{self.given} {self.family}"
        self.notes = {}
        for r in self.by.get('DocumentReference', []):
            try:
                t = decode(r)
            except Exception:
                continue
            self.notes[r['id']] = dict(text=t, date=(r.get('date') or '')[:10], r=r,
                                       secs=line_sections(t))
        self.blob = (json.dumps(b) + '\n'.join(n['text'] for n in self.notes.values())).lower()

    def get(self, t):
        return self.by.get(t, [])

    def note_hits(self, pattern, since=None, flags=re.I, docs=None):
        """(docid, section_start, section_end) for each note section matching pattern."""
        out = []
        for did, n in self.notes.items():
            if docs is not None and did not in docs:
                continue
            if since and n['date'] < since:
                continue
            seen = set()
            for m in re.finditer(pattern, n['text'], flags):
                s, e = section_at(n['text'], m.start(), n['secs'])
                if (s, e) not in seen:
                    seen.add((s, e))
                    out.append((did, s, e))
        return out

    def mentions(self, *terms):
        return any(t.lower() in self.blob for t in terms)


def spans_of(hits):
    return [[f'DocumentReference/{d}', s, e] for d, s, e in hits]


def docrefs(hits):
    seen = []
    for d, _, _ in hits:
        r = f'DocumentReference/{d}'
        if r not in seen:
            seen.append(r)
    return seen


def eff(r):
    return r.get('effectiveDateTime') or (r.get('effectivePeriod') or {}).get('start') or r.get('issued') or ''


def dt(s):
    return datetime.fromisoformat(s.replace('Z', '+00:00'))


def fmt_val(v):
    x = v['value']
    if isinstance(x, float) and x.is_integer():
        x = int(x)
    return f"{x} {v.get('unit', '')}".strip()


# ================================================================ DEMO WORLD
demo = [Pt(f) for f in sorted(glob.glob(os.path.join(DEMO, 'patient-*.json')))]
directory = json.load(open(os.path.join(DEMO, 'directory.json')))
PRAC = {e['resource']['id']: e['resource'] for e in directory['entry']
        if e['resource']['resourceType'] == 'Practitioner'}
NAMECOUNT = {}
for p in demo:
    NAMECOUNT[p.name] = NAMECOUNT.get(p.name, 0) + 1


def her(p):
    return 'she' if p.p.get('gender') == 'female' else 'he'


def first_last(p):
    return p.name


def pick(lst):
    return rng.choice(lst)


D = 'demo'
used = {}


def mark(p, cat):
    used.setdefault(p.id, set()).add(cat)


# ---- PCP
pcp_q = ['PCP?', 'who is the pcp', "who's {nm}'s primary care doc?", 'pt PCP name',
         'who is this patient\'s primary care physician?', 'pcp?']
for i, p in enumerate(demo[0:60:10]):
    gp = p.p['generalPractitioner'][0]['reference']
    facts = [gp, f'Patient/{p.id}']
    for ct in p.get('CareTeam'):
        if ct['status'] != 'active':
            continue
        for pa in ct['participant']:
            if pa['role'][0].get('text') == 'Primary care physician' and pa['member']['reference'] == gp:
                facts.append(f'CareTeam/{ct["id"]}')
    add(D, p.id, pcp_q[i % len(pcp_q)].format(nm=p.given), 'answer', [facts], [], 'pcp',
        f"{p.p['generalPractitioner'][0]['display']}")

# ---- care-team roles
ROLEQ = {
    'Care coordinator': ['who is the care coordinator?', 'care coordinator name', 'CC / care mgr assigned?'],
    'Cardiology': ['cardiologist?', "who's following for cardiology", 'name of the cardiologist on the care team'],
    'Psychiatrist': ['psychiatrist?', 'who manages psych meds for this pt'],
    'Therapist': ['who is the therapist', 'pt therapist name?'],
    'Sleep medicine': ['sleep doc?', 'who is the sleep medicine provider'],
    'Pulmonology': ['pulm?', 'who is the pulmonologist'],
    'Anticoagulation nurse': ['who runs the INR / anticoag clinic for this pt?', 'anticoag nurse?'],
    'Endocrinology': ['endo?', 'who is the endocrinologist'],
    'Orthopedic surgeon': ['ortho surgeon?', 'who is the orthopedic surgeon'],
    'Home health nurse': ['home health RN?', 'who is the home health nurse'],
    'Substance use counselor': ['who is the substance use counselor?'],
    'Physical therapist': ['PT (physical therapist) name?'],
}
role_done = 0
ri = 0
for p in demo[1::3]:
    active = [ct for ct in p.get('CareTeam') if ct['status'] == 'active']
    roles = {}
    for ct in active:
        for pa in ct['participant']:
            roles.setdefault(pa['role'][0]['text'], []).append((ct['id'], pa['member']))
    cands = [r for r in ROLEQ if r in roles and len(roles[r]) == 1]
    if not cands:
        continue
    if 'Care coordinator' in cands and ('Cardiology care coordinator' in roles or 'Transitions nurse' in roles):
        cands.remove('Care coordinator')
    role = cands[ri % len(cands)]
    ri += 1
    ctid, mem = roles[role][0]
    add(D, p.id, pick(ROLEQ[role]), 'answer', [[mem['reference'], f'CareTeam/{ctid}']], [],
        'care-team-role', f"{role}: {mem['display']}")
    mark(p, 'role')
    role_done += 1
    if role_done >= 9:
        break

# former care coordinator
for p in demo:
    inact = [ct for ct in p.get('CareTeam') if ct['status'] == 'inactive']
    if inact and p.id not in used:
        ct = inact[0]
        m = ct['participant'][0]['member']
        add(D, p.id, 'who was the previous care coordinator?', 'answer',
            [[m['reference'], f'CareTeam/{ct["id"]}']], [], 'care-team-former', m['display'])
        mark(p, 'former')
        break

# role absent -> decline
ABSENT_ROLES = [('nephrologist?', ['nephrolog', 'kidney specialist', 'renal']),
                ('who is the oncologist', ['oncolog', 'cancer', 'tumor']),
                ('GI doc?', ['gastroenterolog', ' gi ', 'gi clinic']),
                ('dermatologist name?', ['dermatolog', 'skin'])]
k = 0
for p in demo[5::7]:
    q, terms = ABSENT_ROLES[k % len(ABSENT_ROLES)]
    if p.mentions(*terms):
        continue
    add(D, p.id, q, 'decline', [], [], 'care-team-absent-role', 'no such specialist on record')
    k += 1
    if k >= 4:
        break


# ---- note authors
AUTH_Q = {'Discharge summary': ['who wrote the d/c summary?', 'author of discharge summary'],
          'Consult note': ['who wrote the consult note?', 'consult note author'],
          'Diagnostic imaging study': ['who read the imaging study?', 'radiologist on the imaging report?'],
          'Nurse Note': ['which nurse wrote the home visit note?']}
k = 0
for p in demo[2::4]:
    for did, n in p.notes.items():
        typ = n['r']['type']['coding'][0]['display']
        if typ not in AUTH_Q:
            continue
        same = [x for x in p.notes.values() if x['r']['type']['coding'][0]['display'] == typ]
        if len(same) != 1:
            continue
        a = n['r']['author'][0]
        nm = a['display']
        core = nm.replace('Dr. ', '').split(',')[0]
        hits = [h for h in p.note_hits(re.escape(core), docs={did})]
        add(D, p.id, AUTH_Q[typ][k % len(AUTH_Q[typ])], 'answer',
            [[f'DocumentReference/{did}', a['reference']]], spans_of(hits), 'note-author', f'{nm} ({typ}, {n["date"]})')
        k += 1
        break
    if k >= 5:
        break


# ---- admissions
def admissions(p):
    return sorted([e for e in p.get('Encounter') if e['class']['code'] == 'IMP'], key=lambda e: e['period']['start'])


def dc_summary(p, enc):
    for did, n in p.notes.items():
        r = n['r']
        if r['type']['coding'][0]['display'] != 'Discharge summary':
            continue
        encs = [x['reference'].split(':')[-1].split('/')[-1] for x in (r.get('context') or {}).get('encounter', [])]
        if enc['id'] in encs:
            return did
    return None


ADM_Q = ['admit date?', 'when was pt admitted', 'date of last admission + reason', 'why was {he} admitted?',
         'reason for hospitalization?', 'last hospitalization dx']
DC_Q = ['d/c date?', 'when was {he} discharged', 'discharge date from last admission']
LOS_Q = ['LOS for the last admission?', 'how long was the hospital stay', 'how many days inpatient last time']
adm_pts = [p for p in demo if admissions(p)]
for i, p in enumerate(adm_pts):
    enc = admissions(p)[-1]
    if len(admissions(p)) != 1:
        continue
    did = dc_summary(p, enc)
    if not did:
        continue
    t = p.notes[did]['text']
    st, en = enc['period']['start'][:10], enc['period']['end'][:10]
    los = (date.fromisoformat(en) - date.fromisoformat(st)).days
    reason = enc['type'][0]['text'].replace('Inpatient admission - ', '')
    cond = [r['reference'].split(':')[-1] for r in enc.get('reasonReference', [])]
    kind = i % 3
    if kind == 0:
        h = p.note_hits(r'Admission date:|Admitted:|Admit date:', docs={did})
        hr = p.note_hits(r'Reason for admission|Admission diagnos|Reason For Admission|REASON FOR ADMISSION', docs={did})
        q = ADM_Q[(i // 3) % len(ADM_Q)].format(he=her(p))
        if 'reason' in q or 'why' in q or 'dx' in q:
            facts = [[f'Encounter/{enc["id"]}'] + ([f'DocumentReference/{did}'] if h else [])]
            facts2 = [[f'Encounter/{enc["id"]}'] + [f'Condition/{c}' for c in cond] + ([f'DocumentReference/{did}'] if hr else [])]
            if 'why' in q or q.startswith('reason'):
                add(D, p.id, q, 'answer', facts2, spans_of(hr), 'admission-reason', f'{reason} (admitted {st})')
            else:
                add(D, p.id, q, 'answer', facts + facts2, spans_of(h + hr), 'admission-date+reason', f'admitted {st} for {reason}')
        else:
            add(D, p.id, q, 'answer', [[f'Encounter/{enc["id"]}'] + ([f'DocumentReference/{did}'] if h else [])],
                spans_of(h), 'admission-date', f'admitted {st}')
    elif kind == 1:
        h = p.note_hits(r'Discharge date:|Discharged:', docs={did})
        add(D, p.id, DC_Q[(i // 3) % len(DC_Q)].format(he=her(p)), 'answer',
            [[f'Encounter/{enc["id"]}'] + ([f'DocumentReference/{did}'] if h else [])], spans_of(h), 'discharge-date',
            f'discharged {en}')
    else:
        h = p.note_hits(r'Admission date:|Admitted:|Admit date:|Discharge date:|Discharged:', docs={did})
        add(D, p.id, LOS_Q[(i // 3) % len(LOS_Q)], 'answer',
            [[f'Encounter/{enc["id"]}'] + ([f'DocumentReference/{did}'] if h else [])], spans_of(h), 'length-of-stay',
            f'{los} days ({st} to {en})')
    mark(p, 'adm')
    if i >= 11:
        break

# admission absent -> decline
k = 0
for p in demo[::-1]:
    if admissions(p) or p.mentions('hospital course', 'discharge summary', 'admitted', 'admission'):
        continue
    add(D, p.id, pick(['d/c date?', 'when was the last inpatient admission?', 'LOS last admit?']), 'decline', [], [],
        'admission-absent', 'no inpatient admission in the record')
    k += 1
    if k >= 3:
        break

# ED visit -> none on record (no EMER encounters anywhere)
k = 0
for p in demo[3::9]:
    if any(e['class']['code'] == 'EMER' for e in p.get('Encounter')) or p.mentions('emergency department', 'ed visit', 'er visit'):
        continue
    add(D, p.id, pick(['last ED visit?', 'date of most recent ER visit']), 'decline', [], [], 'ed-visit-absent',
        'no emergency department encounter in the record')
    k += 1
    if k >= 2:
        break

# ---- discharge plan / recommendations (note text)
k = 0
DCP_Q = ['d/c recs?', 'what were the discharge follow-up instructions', 'f/u plan at discharge',
         'discharge plan?', 'what follow-up did the hospitalist recommend at d/c']
for p in adm_pts[1::2]:
    enc = admissions(p)[-1]
    did = dc_summary(p, enc)
    if not did:
        continue
    h = p.note_hits(r'^(#+\s*)?(Follow-?up|FOLLOW-?UP|Recommendations|RECOMMENDATIONS|Discharge plan|DISCHARGE PLAN|Plan|PLAN)\b[^\n]*$',
                    docs={did}, flags=re.M)
    if len(h) != 1:
        continue
    add(D, p.id, DCP_Q[k % len(DCP_Q)], 'answer', [[f'DocumentReference/{did}']], spans_of(h), 'discharge-plan',
        p.notes[did]['text'][h[0][1]:h[0][2]][:90].replace('\n', ' ') + '...')
    mark(p, 'dcplan')
    k += 1
    if k >= 6:
        break

# discharge meds (note section)
k = 0
for p in adm_pts[::3]:
    enc = admissions(p)[-1]
    did = dc_summary(p, enc)
    if not did:
        continue
    h = p.note_hits(r'^(#+\s*)?(Discharge Medications|DISCHARGE MEDICATIONS|Medications at discharge)[^\n]*$', docs={did}, flags=re.M)
    if len(h) != 1:
        continue
    add(D, p.id, pick(['d/c meds?', 'discharge med list', 'what meds was pt sent home on']), 'answer',
        [[f'DocumentReference/{did}']], spans_of(h), 'discharge-meds', 'discharge medication list section')
    k += 1
    if k >= 3:
        break


# ---- follow-ups, tasks, appointments
OPEN_TASK = {'requested', 'ready', 'in-progress', 'received', 'accepted', 'on-hold'}


def task_due(t):
    return ((t.get('restriction') or {}).get('period') or {}).get('end', '')[:10]


OVD_Q = ['overdue tasks?', 'any open tasks past their due date?', 'overdue to-dos for this pt', 'which care tasks are past due']
k = 0
for p in demo[4::2]:
    od = [t for t in p.get('Task') if t['status'] in OPEN_TASK and task_due(t) and task_due(t) < AS_OF]
    if not od or len(od) > 3:
        continue
    add(D, p.id, OVD_Q[k % len(OVD_Q)], 'answer', [[f'Task/{t["id"]}'] for t in od], [], 'overdue-tasks',
        '; '.join(f"{t['description']} (due {task_due(t)}, {t['status']})" for t in od))
    mark(p, 'ovd')
    k += 1
    if k >= 6:
        break

NEXT_Q = ['next appt?', 'upcoming appointments', 'when is the next scheduled visit', 'any f/u appt booked?']
k = 0
for p in demo[7::2]:
    up = sorted([a for a in p.get('Appointment') if a['status'] == 'booked' and a['start'][:10] >= AS_OF],
                key=lambda a: a['start'])
    if not up:
        continue
    a = up[0]
    q = NEXT_Q[k % len(NEXT_Q)]
    if q.startswith('upcoming'):
        facts = [[f'Appointment/{x["id"]}'] for x in up]
        tr = '; '.join(f"{x.get('description')} {x['start'][:16]}" for x in up)
    else:
        facts = [[f'Appointment/{a["id"]}']]
        tr = f"{a.get('description')} on {a['start'][:16]}"
    add(D, p.id, q, 'answer', facts, [], 'upcoming-appointment', tr)
    k += 1
    if k >= 6:
        break

# no-show
k = 0
for p in demo[11:]:
    ns = [a for a in p.get('Appointment') if a['status'] == 'noshow']
    if len(ns) != 1:
        continue
    a = ns[0]
    add(D, p.id, pick(['did pt miss any appts?', 'any no-shows?']), 'answer', [[f'Appointment/{a["id"]}']], [],
        'missed-appointment', f"no-show: {a.get('description')} {a['start'][:10]}")
    k += 1
    if k >= 2:
        break

# declined / revoked referral
k = 0
for p in demo[2:]:
    rv = [s for s in p.get('ServiceRequest') if s['status'] == 'revoked']
    if len(rv) != 1:
        continue
    s = rv[0]
    name = s['code'].get('text') or cc_text(s['code'])
    short = 'cardiac rehab' if 'cardiac rehab' in name.lower() else ('DSMES' if 'diabetes' in name.lower() else name)
    add(D, p.id, f'{short} referral status?' if k % 2 == 0 else f'did the {short} referral go through?', 'answer',
        [[f'ServiceRequest/{s["id"]}']], [], 'referral-status',
        f"{name}: revoked - {'; '.join(n['text'] for n in s.get('note', []))}")
    k += 1
    if k >= 3:
        break

# ---- medications
def active_meds(p):
    return [m for m in p.get('MedicationRequest') if m['status'] == 'active']


def med_name(m):
    return cc_text(m.get('medicationCodeableConcept'))


def med_fact(p, m):
    word = med_name(m).split()[0]
    hits = p.note_hits(r'\b' + re.escape(word) + r'\b', since=m.get('authoredOn', '')[:10])
    return [f'MedicationRequest/{m["id"]}'] + docrefs(hits), hits


MEDLIST_Q = ['active meds?', 'current med list', 'what meds is {he} on', 'pt meds', 'med rec - current meds?']
k = 0
for p in demo[6::5]:
    am = active_meds(p)
    if not am or len(am) > 8:
        continue
    facts, spans = [], []
    for m in am:
        f, h = med_fact(p, m)
        facts.append(f)
        spans += spans_of(h)
    add(D, p.id, MEDLIST_Q[k % len(MEDLIST_Q)].format(he=her(p)), 'answer', facts, spans, 'active-meds',
        '; '.join(med_name(m) for m in am))
    k += 1
    if k >= 6:
        break

CLASSES = {
    'anticoagulant': (['warfarin', 'enoxaparin', 'apixaban', 'rivaroxaban', 'heparin', 'dabigatran'],
                      ['pt on anticoag?', 'any anticoagulant?', 'blood thinner?'],
                      ['warfarin', 'coumadin', 'enoxaparin', 'lovenox', 'apixaban', 'eliquis', 'rivaroxaban',
                       'xarelto', 'heparin', 'dabigatran', 'anticoag', 'blood thinner', 'inr']),
    'diuretic': (['furosemide', 'spironolactone', 'torsemide', 'bumetanide', 'hydrochlorothiazide', 'chlorthalidone'],
                 ['diuretic?', 'on a loop diuretic or MRA?', 'what diuretics'],
                 ['furosemide', 'lasix', 'spironolactone', 'torsemide', 'bumetanide', 'thiazide', 'chlorthalidone',
                  'diuretic', 'diures']),
    'inhaler': (['tiotropium', 'fluticasone', 'albuterol', 'salmeterol', 'budesonide', 'ipratropium'],
                ['inhalers?', 'what inhalers does pt use', 'any bronchodilators / inhalers'],
                ['inhal', 'albuterol', 'tiotropium', 'fluticasone', 'salmeterol', 'budesonide', 'ipratropium',
                 'bronchodilator', 'nebul', 'mdi']),
    'diabetes': (['metformin', 'insulin', 'glipizide', 'empagliflozin', 'semaglutide', 'sitagliptin'],
                 ['DM meds?', 'diabetes meds', 'pt on insulin?', 'any hypoglycemics'],
                 ['metformin', 'insulin', 'glipizide', 'glyburide', 'empagliflozin', 'semaglutide', 'sitagliptin',
                  'glargine', 'diabetes', 'a1c']),
}
ABX_TERMS = ['antibiot', 'abx', 'amoxicillin', 'azithromycin', 'doxycycline', 'ceftriaxone', 'cephalexin',
             'levofloxacin', 'ciprofloxacin', 'penicillin', 'vancomycin', 'augmentin', 'bactrim', 'sulfamethoxazole',
             'nitrofurantoin', 'clindamycin', 'cefdinir', 'linezolid', 'metronidazole', 'pip-tazo', 'zosyn']
STEROID_TERMS = ['prednisone', 'prednisolone', 'methylpred', 'dexamethasone', 'hydrocortisone', 'steroid',
                 'fluticasone', 'budesonide', 'corticoster']
k = {c: 0 for c in CLASSES}
kd = {c: 0 for c in CLASSES}
for idx, p in enumerate(demo):
    for cname, (drugs, qs, terms) in CLASSES.items():
        hits = [m for m in active_meds(p) if med_name(m).split()[0].lower() in drugs]
        if hits and k[cname] < 3 and (idx + len(cname)) % 3 == 0:
            facts, spans = [], []
            for m in hits:
                f, h = med_fact(p, m)
                facts.append(f)
                spans += spans_of(h)
            q = qs[k[cname] % len(qs)]
            if q == 'pt on insulin?' and not any('insulin' in med_name(m).lower() for m in hits):
                q = 'DM meds?'
            if q == 'pt on insulin?':
                hits = [m for m in hits if 'insulin' in med_name(m).lower()]
                facts = [med_fact(p, m)[0] for m in hits]
                spans = sum((spans_of(med_fact(p, m)[1]) for m in hits), [])
            add(D, p.id, q, 'answer', facts, spans, f'drug-class:{cname}', '; '.join(med_name(m) for m in hits))
            k[cname] += 1
        elif not p.mentions(*terms) and kd[cname] < 2 and idx % 4 == 1:
            q = {'anticoagulant': ['is pt on warfarin or a DOAC?', 'anticoag?'],
                 'diuretic': ['on lasix?', 'any diuretic'],
                 'inhaler': ['inhaler regimen?', 'is she using an albuterol inhaler'],
                 'diabetes': ['pt on insulin?', 'metformin dose?']}[cname][kd[cname] % 2]
            add(D, p.id, q, 'decline', [], [], f'absent-drug-class:{cname}', f'no {cname} in the record')
            kd[cname] += 1

# antibiotics: none ordered as MedicationRequest anywhere; declines only where nothing mentions them
k = 0
for p in demo[9::6]:
    if p.mentions(*ABX_TERMS):
        continue
    add(D, p.id, pick(['on abx?', 'current antibiotics?', 'any antibiotic this admission']), 'decline', [], [],
        'absent-drug-class:antibiotic', 'no antibiotic in the record')
    k += 1
    if k >= 2:
        break
# antibiotics mentioned only in a note (azithromycin course in COPD d/c summaries)
k = 0
for p in demo:
    h = p.note_hits(r'azithromycin')
    if len(h) == 1:
        add(D, p.id, 'abx given inpatient?', 'answer', [docrefs(h)], spans_of(h), 'inpatient-antibiotic',
            '5-day course of azithromycin (per discharge summary)')
        k += 1
        if k >= 2:
            break

# steroid: prednisone burst completed
k = 0
for p in demo:
    pr = [m for m in p.get('MedicationRequest') if med_name(m).lower().startswith('prednisone')]
    if len(pr) == 1 and pr[0]['status'] == 'completed':
        m = pr[0]
        add(D, p.id, pick(['still on prednisone?', 'oral steroid course status?']), 'answer',
            [[f'MedicationRequest/{m["id"]}']], [], 'steroid-status',
            f"{med_name(m)} ordered {m['authoredOn'][:10]}, status completed (not active)")
        k += 1
        if k >= 2:
            break
k = 0
for p in demo[10::5]:
    if p.mentions(*STEROID_TERMS):
        continue
    add(D, p.id, pick(['pt on steroids?', 'any chronic steroid use?']), 'decline', [], [], 'absent-drug-class:steroid',
        'no steroid in the record')
    k += 1
    if k >= 2:
        break

# stopped dose vs current dose
k = 0
for p in demo[13::2]:
    meds = p.get('MedicationRequest')
    for m in meds:
        if m['status'] != 'stopped':
            continue
        w = med_name(m).split()[0]
        cur = [x for x in meds if x['status'] == 'active' and med_name(x).split()[0] == w]
        if len(cur) == 1:
            c = cur[0]
            f, h = med_fact(p, c)
            add(D, p.id, pick([f'current {w.lower()} dose?', f'{w.lower()} dose now?', f'what dose of {w.lower()} is {her(p)} on']),
                'answer', [f], spans_of(h), 'current-dose',
                f"{med_name(c)} - {c['dosageInstruction'][0]['text']} (prior {med_name(m)} stopped)")
            k += 1
            break
    if k >= 5:
        break


# ---- labs / vitals
LABS = {'2160-0': ('creatinine', ['last Cr?', 'most recent creatinine', 'Cr trend - latest value?'], r'creatinine|\bCr\b'),
        '2823-3': ('potassium', ['last K?', 'latest potassium', 'K+ most recent'], r'potassium|\bK\b'),
        '30934-4': ('BNP', ['last BNP?', 'most recent BNP value'], r'BNP'),
        '4548-4': ('HbA1c', ['latest A1c?', 'last HbA1c and date'], r'A1c'),
        '6301-6': ('INR', ['last INR?', 'most recent INR'], r'INR'),
        '33914-3': ('eGFR', ['eGFR?', 'latest GFR'], r'eGFR|GFR'),
        '13457-7': ('LDL', ['LDL?', 'last lipid - LDL'], r'LDL'),
        '29463-7': ('weight', ['last wt?', 'most recent weight'], r'weight|\bwt\b|kg'),
        '59408-5': ('SpO2', ['last O2 sat?', 'most recent SpO2'], r'SpO2|sat'),
        '44261-6': ('PHQ-9', ['latest PHQ-9?', 'last PHQ9 score'], r'PHQ'),
        }


def obs_by(p, code):
    return sorted([o for o in p.get('Observation') if any(c['code'] == code for c in o['code'].get('coding', []))
                   and o['status'] in ('final', 'amended', 'corrected')], key=lambda o: dt(eff(o)))


def num_re(v):
    x = v['value']
    s = str(int(x)) if float(x).is_integer() else str(x)
    return re.escape(s)


labcount = {c: 0 for c in LABS}
for idx, p in enumerate(demo):
    for code, (nm, qs, rx) in LABS.items():
        if labcount[code] >= 2:
            continue
        if (idx + len(code)) % 4:
            continue
        obs = obs_by(p, code)
        if not obs:
            continue
        last = obs[-1]
        if len(obs) > 1 and eff(obs[-2])[:16] == eff(last)[:16]:
            continue
        ld = eff(last)[:10]
        # strictness: no note dated on/after the last result may report a different value for this lab
        v = last['valueQuantity']
        conflict = False
        same = []
        for did, n in p.notes.items():
            if n['date'] < ld:
                continue
            for m in re.finditer(r'(?:' + rx + r')[^\n]{0,25}?(\d+(?:\.\d+)?)', n['text'], re.I):
                if abs(float(m.group(1)) - float(v['value'])) > 1e-9:
                    if n['date'] > ld:
                        conflict = True
                else:
                    s, e = section_at(n['text'], m.start(), n['secs'])
                    same.append((did, s, e))
        if conflict:
            continue
        same = list(dict.fromkeys(same))
        add(D, p.id, qs[labcount[code] % len(qs)], 'answer', [[f'Observation/{last["id"]}'] + docrefs(same)],
            spans_of(same), 'lab-latest' if nm not in ('weight', 'SpO2') else 'vital-latest',
            f'{nm} {fmt_val(v)} on {ld}')
        labcount[code] += 1

# BP only lives in notes
k = 0
for p in demo[::3]:
    bps = []
    for did, n in p.notes.items():
        for m in re.finditer(r'\bBP (\d{2,3}/\d{2,3})', n['text']):
            bps.append((n['date'], did, m))
    if not bps:
        continue
    bps.sort(key=lambda x: x[0])
    lastd = bps[-1][0]
    lastset = [b for b in bps if b[0] == lastd]
    if len({b[2].group(1) for b in lastset}) != 1 or len({b[1] for b in lastset}) != 1:
        continue
    d0, did, m = lastset[0]
    s, e = section_at(p.notes[did]['text'], m.start(), p.notes[did]['secs'])
    add(D, p.id, pick(['last BP?', 'most recent blood pressure', 'BP at last visit?']), 'answer',
        [[f'DocumentReference/{did}']], [[f'DocumentReference/{did}', s, e]], 'vital-latest:bp',
        f'BP {m.group(1)} on {d0}')
    k += 1
    if k >= 3:
        break

# labs never measured -> decline
ABSENT_LABS = [('TSH?', ['tsh', 'thyroid']), ('last hgb?', ['hemoglobin ', 'hgb', 'cbc', 'anemia', 'hematocrit']),
               ('lipase?', ['lipase']), ('most recent troponin', ['troponin']), ('PSA?', ['psa', 'prostate']),
               ('magnesium level?', ['magnesium', ' mg level']), ('last TSH and free T4', ['tsh', 't4', 'thyroid'])]
k = 0
for p in demo[8::4]:
    q, terms = ABSENT_LABS[k % len(ABSENT_LABS)]
    if p.mentions(*terms):
        continue
    add(D, p.id, q, 'decline', [], [], 'absent-lab', f'no {q.strip("?")} result in the record')
    k += 1
    if k >= 6:
        break

# ---- allergies (no AllergyIntolerance and no allergy text anywhere in the demo world)
k = 0
for p in demo[12::8]:
    if p.get('AllergyIntolerance') or p.mentions('allerg', 'nkda', 'nka', 'intoleran', 'adverse reaction'):
        continue
    add(D, p.id, ['allergies?', 'NKDA?', 'any drug allergies', 'pcn allergy?'][k % 4], 'decline', [], [], 'allergies-absent',
        'no allergy information recorded')
    k += 1
    if k >= 4:
        break

# ---- tobacco / alcohol from notes
k = 0
for p in demo:
    h = p.note_hits(r'quit smoking|smoking cessation')
    if not h:
        continue
    add(D, p.id, pick(['tobacco use?', 'smoker?', 'pt smoke?']), 'answer', [docrefs(h)], spans_of(h), 'tobacco',
        'smoker - cessation counseling/resources documented')
    k += 1
    if k >= 2:
        break
k = 0
for p in demo[20:]:
    if p.mentions('smok', 'tobacco', 'cigar', 'nicotine', 'vap', 'pack-year', 'pack year'):
        continue
    add(D, p.id, pick(['tobacco hx?', 'pack years?', 'smoking status']), 'decline', [], [], 'tobacco-absent',
        'smoking status not documented')
    k += 1
    if k >= 2:
        break
k = 0
for p in demo[1:]:
    aud = [c for c in p.get('Condition') if 'alcohol' in cc_text(c['code']).lower()]
    if len(aud) != 1:
        continue
    h = p.note_hits(r'no alcohol use since intake')
    if not h:
        continue
    c = aud[0]
    h = p.note_hits(r'alcohol use disorder')
    add(D, p.id, ['etoh hx?', 'hx of alcohol use disorder?', 'alcohol hx'][k % 3], 'answer',
        [[f'Condition/{c["id"]}'] + docrefs(h)], spans_of(h), 'alcohol',
        f'alcohol use disorder (onset {c["onsetDateTime"][:10]}, active)')
    k += 1
    if k >= 3:
        break

# ---- other items absent -> decline
ABSENT_MISC = [('code status?', ['code status', 'dnr', 'full code', 'polst', 'advance directive']),
               ('last colonoscopy?', ['colonoscopy']),
               ('flu shot this season?', ['influenza', 'flu shot', 'flu vacc', 'immuniz', 'vaccin']),
               ('any hx of falls?', ['fall']),
               ('HCP / health care proxy?', ['proxy', 'power of attorney', 'poa', 'surrogate']),
               ('pneumovax given?', ['pneumo', 'vaccin', 'immuniz'])]
k = 0
for p in demo[15::3]:
    q, terms = ABSENT_MISC[k % len(ABSENT_MISC)]
    if p.mentions(*terms):
        continue
    add(D, p.id, q, 'decline', [], [], 'absent-item', f'{q.strip("?")} not documented')
    k += 1
    if k >= 5:
        break

# ---- another patient named by full name -> decline
k = 0
others = [p for p in demo if NAMECOUNT[p.name] == 1]
for i, p in enumerate(demo[::11]):
    o = others[(i * 17 + 5) % len(others)]
    if o.id == p.id or o.name.lower() in p.blob or o.family.lower() in p.blob:
        continue
    q = [f"what is {o.name}'s last creatinine?", f'{o.name} - active meds?', f'when was {o.name} discharged?',
         f'who is the PCP for {o.name}?'][k % 4]
    add(D, p.id, q, 'decline', [], [], 'other-patient', f'asks about {o.name}, a different patient')
    k += 1
    if k >= 4:
        break
# relative
k = 0
for p in demo[30::9]:
    if p.mentions('wife', 'husband', 'daughter', 'son ', 'spouse'):
        continue
    add(D, p.id, pick(["what meds is the pt's wife on?", "daughter's phone number?", "husband's dx?"]), 'decline', [], [],
        'other-person-relative', "asks about a relative's record")
    k += 1
    if k >= 1:
        break

# care plan
k = 0
for p in demo[3::5]:
    cps = [c for c in p.get('CarePlan') if c['status'] == 'active']
    if len(cps) != 1:
        continue
    c = cps[0]
    acts = [a['detail'] for a in c.get('activity', []) if a.get('detail', {}).get('status') in ('not-started', 'scheduled')]
    if not acts:
        continue
    add(D, p.id, pick(['care plan items not started yet?', 'what is still outstanding on the care plan']), 'answer',
        [[f'CarePlan/{c["id"]}']], [], 'careplan-open',
        '; '.join(f"{a['description']} ({a['status']})" for a in acts))
    k += 1
    if k >= 3:
        break

n_demo = len(OUT)


# ================================================================ SYNTHEA
def syn_load():
    pts = []
    for d in SYN_DIRS:
        for f in sorted(glob.glob(os.path.join(d, '*.json'))):
            if 'Information' in os.path.basename(f):
                continue
            pts.append(Pt(f))
    return pts


syn = syn_load()
S = 'synthea'


def clean(name):
    return re.sub(r'\d+', '', name)


SYN_GROUPS = {
    'glucose': ['2339-0', '2345-7'],
    'creatinine': ['2160-0', '38483-4'],
    'hba1c': ['4548-4', '17856-6'],
    'bmi': ['39156-5'],
    'weight': ['29463-7'],
    'hdl': ['2085-9'],
    'ldl': ['18262-6', '13457-7', '2089-1'],
    'potassium': ['2823-3', '6298-4'],
    'hemoglobin': ['718-7'],
    'heart rate': ['8867-4'],
}
SYN_Q = {'glucose': ['last glucose?', 'most recent BG'], 'creatinine': ['last Cr?', 'latest creatinine'],
         'hba1c': ['A1c?', 'most recent hemoglobin A1c'], 'bmi': ['BMI?', 'latest BMI'],
         'weight': ['last weight?', 'wt most recent'], 'hdl': ['HDL?'], 'ldl': ['LDL?', 'last LDL cholesterol'],
         'potassium': ['K?', 'latest potassium'], 'hemoglobin': ['last hgb?', 'Hgb most recent'],
         'heart rate': ['last HR?', 'most recent pulse']}


def syn_obs(p, codes):
    out = []
    for o in p.get('Observation'):
        if o.get('status') not in ('final', 'amended', 'corrected'):
            continue
        if any(c.get('code') in codes for c in o['code'].get('coding', [])) and 'valueQuantity' in o:
            out.append(o)
    return sorted(out, key=lambda o: dt(eff(o)))


def ref_id(ref):
    return ref.split(':')[-1].split('/')[-1]


def syn_note_hits(p, needle, dates=None):
    """Synthea notes that state a display string (case-insensitive), optionally only notes on given dates."""
    hits = []
    for did, n in p.notes.items():
        if dates is not None and n['date'] not in dates:
            continue
        for m in re.finditer(re.escape(needle), n['text'], re.I):
            s, e = section_at(n['text'], m.start(), n['secs'])
            hits.append((did, s, e))
    return list(dict.fromkeys(hits))


pi = 0
syn_cycle = syn * 10
lab_keys = list(SYN_GROUPS)
li = 0
# labs/vitals latest: 2 per patient for first 13 patients
for p in syn:
    done = 0
    tries = 0
    while done < 1 and tries < len(lab_keys):
        key = lab_keys[li % len(lab_keys)]
        li += 1
        tries += 1
        obs = syn_obs(p, SYN_GROUPS[key])
        if not obs:
            continue
        last = obs[-1]
        same_time = [o for o in obs if eff(o) == eff(last)]
        if len(same_time) > 1:
            continue
        codes_used = {c['code'] for o in obs for c in o['code']['coding'] if c['code'] in SYN_GROUPS[key]}
        add(S, p.id, pick(SYN_Q[key]), 'answer', [[f'Observation/{last["id"]}']], [],
            'lab-latest' if key not in ('bmi', 'weight', 'heart rate') else 'vital-latest',
            f"{key} {fmt_val(last['valueQuantity'])} on {eff(last)[:10]} (codes searched: {', '.join(sorted(codes_used))})")
        done += 1

# BP from panel components
k = 0
for p in syn[1::2]:
    bps = []
    for o in p.get('Observation'):
        if any(c.get('code') == '85354-9' for c in o['code'].get('coding', [])):
            comp = {c['code']['coding'][0]['code']: c.get('valueQuantity', {}).get('value') for c in o.get('component', [])}
            if comp.get('8480-6') and comp.get('8462-4'):
                bps.append((dt(eff(o)), o, comp))
    if not bps:
        continue
    bps.sort(key=lambda x: x[0])
    if len(bps) > 1 and bps[-1][0] == bps[-2][0]:
        continue
    _, o, comp = bps[-1]
    add(S, p.id, pick(['last BP?', 'most recent blood pressure reading', 'BP?']), 'answer', [[f'Observation/{o["id"]}']],
        [], 'vital-latest:bp', f"{int(comp['8480-6'])}/{int(comp['8462-4'])} mmHg on {eff(o)[:10]}")
    k += 1
    if k >= 5:
        break


def syn_med_name(p, m):
    if 'medicationCodeableConcept' in m:
        return cc_text(m['medicationCodeableConcept'])
    rid = ref_id(m['medicationReference']['reference'])
    for x in p.get('Medication'):
        if x['id'] == rid:
            return cc_text(x['code'])
    return m['medicationReference'].get('display', '')


# active meds
k = 0
for p in syn:
    am = [m for m in p.get('MedicationRequest') if m['status'] == 'active']
    if not am or len(am) > 6:
        continue
    facts = []
    spans = []
    names = []
    for m in am:
        nm = syn_med_name(p, m)
        names.append(nm)
        since = (m.get('authoredOn') or '')[:10]
        h = [x for x in syn_note_hits(p, nm) if p.notes[x[0]]['date'] >= since]
        facts.append([f'MedicationRequest/{m["id"]}'] + docrefs(h))
        spans += spans_of(h)
    add(S, p.id, ['active meds?', 'current meds', 'what is pt taking now', 'med list (active only)'][k % 4], 'answer',
        facts, spans, 'active-meds', '; '.join(names))
    k += 1
    if k >= 7:
        break
# stopped med
k = 0
for p in syn[::-1]:
    st = [m for m in p.get('MedicationRequest') if m['status'] == 'stopped']
    am_names = {syn_med_name(p, m) for m in p.get('MedicationRequest') if m['status'] == 'active'}
    cand = [m for m in st if syn_med_name(p, m) not in am_names]
    byname = {}
    for m in cand:
        byname.setdefault(syn_med_name(p, m), []).append(m)
    uniq = [v[0] for v in byname.values() if len(v) == 1]
    if not uniq:
        continue
    m = uniq[0]
    nm = syn_med_name(p, m)
    short = nm.split()[0].lower()
    if sum(1 for x in p.get('MedicationRequest') if syn_med_name(p, x).split()[0].lower() == short) != 1:
        continue
    add(S, p.id, pick([f'is pt still on {short}?', f'{short} - active or d/c\'d?']), 'answer',
        [[f'MedicationRequest/{m["id"]}']], [], 'med-status-stopped', f'{nm}: stopped (ordered {m.get("authoredOn", "")[:10]})')
    k += 1
    if k >= 4:
        break

# active conditions + onset
COND_SKIP = ('(situation)', 'medication review', 'part-time', 'full-time', 'unemploy', 'limited social', 'isolation', 'intimate partner', 'employment', 'education', 'housing', 'stress', 'social', 'criminal',
             'violence', 'abuse', 'labor force', 'refugee', 'transport', 'insurance', 'income')
k = 0
for p in syn[2:] + syn[:2]:
    act = [c for c in p.get('Condition') if cc_text(c.get('clinicalStatus')).lower() in ('active',)
           or (c.get('clinicalStatus', {}).get('coding', [{}])[0].get('code') == 'active')]
    CLIN_FINDING = ('prediabetes', 'obesity', 'pain', 'anemia', 'hyperlipidemia', 'hypertriglyceridemia',
                    'metabolic syndrome', 'sleep apnea', 'hypoxemia', 'gout')
    dis = [c for c in act if not any(s in cc_text(c['code']).lower() for s in COND_SKIP)
           and ('(disorder)' in cc_text(c['code']) or any(w in cc_text(c['code']).lower() for w in CLIN_FINDING)
                or '(' not in cc_text(c['code']))]
    names = {}
    for c in dis:
        names.setdefault(cc_text(c['code']), []).append(c)
    uniq = [v[0] for v in names.values() if len(v) == 1]
    if not uniq:
        continue
    dz = [c for c in uniq if '(disorder)' in cc_text(c['code']) or '(' not in cc_text(c['code'])]
    if not dz:
        continue
    c = sorted(dz, key=lambda c: c.get('onsetDateTime', ''))[0]
    nm = cc_text(c['code'])
    short = clean(nm).split('(')[0].strip()
    if k % 2 == 0:
        add(S, p.id, pick([f'when was {short.lower()} dx\'d?', f'onset date of {short.lower()}?']), 'answer',
            [[f'Condition/{c["id"]}']], [], 'condition-onset', f'{nm} onset {c.get("onsetDateTime", "")[:10]}')
    else:
        facts = [[f'Condition/{x["id"]}'] for x in uniq]
        if len(facts) > 8:
            k += 1
            continue
        add(S, p.id, pick(['active problems?', 'problem list (active dx only)', 'what active dx does pt have']), 'answer',
            facts, [], 'active-conditions', '; '.join(cc_text(x['code']) for x in uniq) + ' (social/finding codes not counted)')
    k += 1
    if k >= 8:
        break

# immunizations latest dose
k = 0
for p in syn[3:] + syn[:3]:
    imm = [i for i in p.get('Immunization') if i.get('status') == 'completed']
    byv = {}
    for i in imm:
        vn = cc_text(i['vaccineCode'])
        grp = next((g for g in ('influenza', 'covid', 'hpv', 'meningococcal', 'pneumococcal', 'hep b', 'hep a', 'zoster')
                    if g in vn.lower()), vn)
        byv.setdefault(grp, []).append(i)
    flu = [v for v in byv if 'influenza' in v.lower()]
    target = flu[0] if flu and k % 2 == 0 else None
    if not target:
        multi = [v for v, l in byv.items() if len(l) >= 2 and 'influenza' not in v.lower()
                 and not re.search(r'\btd\b|tdap|tetanus|dtap', v.lower())]
        if not multi:
            continue
        target = multi[0]
    doses = sorted(byv[target], key=lambda i: i['occurrenceDateTime'])
    if len(doses) > 1 and doses[-1]['occurrenceDateTime'][:10] == doses[-2]['occurrenceDateTime'][:10]:
        continue
    last = doses[-1]
    if re.search(r'\btd\b|tdap|tetanus', target.lower()):
        continue
    short = 'flu shot' if 'influenza' in target.lower() else (
        'COVID vaccine' if 'covid' in target.lower() else target.split(',')[0].split('(')[0].strip() + ' vaccine')
    codes_in_group = sorted({cc_text(i['vaccineCode']) for i in byv[target]})
    h = syn_note_hits(p, cc_text(last['vaccineCode']), dates={last['occurrenceDateTime'][:10]})
    add(S, p.id, pick([f'last {short}?', f'when was the most recent {short} given', f'{short} - date of last dose']),
        'answer', [[f'Immunization/{last["id"]}'] + docrefs(h)], spans_of(h), 'immunization-latest',
        f'{cc_text(last["vaccineCode"])} on {last["occurrenceDateTime"][:10]} (vaccine codes considered: {"; ".join(codes_in_group)})')
    k += 1
    if k >= 7:
        break

# procedures: most recent of a named procedure
k = 0
for p in syn[5:] + syn[:5]:
    pr = [x for x in p.get('Procedure') if x.get('status') == 'completed']
    byn = {}
    for x in pr:
        byn.setdefault(cc_text(x['code']), []).append(x)
    cands = [n for n in byn if any(w in n.lower() for w in ('colonoscopy', 'mammogra', 'papanicolaou', 'extraction',
                                                               'electrocardiographic', 'spirometry', 'x-ray',
                                                               'echocardiography', 'ultrasonography', 'biopsy',
                                                               'vaccination', 'appendectomy', 'cholecystectomy'))]
    if not cands:
        continue
    n = sorted(cands)[0]
    xs = sorted(byn[n], key=lambda x: ((x.get('performedPeriod') or {}).get('start') or x.get('performedDateTime', '')))
    last = xs[-1]
    when = ((last.get('performedPeriod') or {}).get('start') or last.get('performedDateTime', ''))[:10]
    if len(xs) > 1:
        prev = ((xs[-2].get('performedPeriod') or {}).get('start') or xs[-2].get('performedDateTime', ''))[:10]
        if prev == when:
            continue
    short = clean(n).split('(')[0].strip().lower()
    h = syn_note_hits(p, n, dates={when})
    add(S, p.id, pick([f'last {short}?', f'date of most recent {short}', f'when did pt have {short}']), 'answer',
        [[f'Procedure/{last["id"]}'] + docrefs(h)], spans_of(h), 'procedure-latest', f'{n} on {when}')
    k += 1
    if k >= 5:
        break

# encounters: most recent encounter
k = 0
for p in syn[::2]:
    encs = sorted(p.get('Encounter'), key=lambda e: e['period']['start'])
    if len(encs) > 1 and encs[-1]['period']['start'] == encs[-2]['period']['start']:
        continue
    e = encs[-1]
    enotes = [did for did, n in p.notes.items()
              if any(ref_id(x['reference']) == e['id'] for x in (n['r'].get('context') or {}).get('encounter', []))]
    eh = []
    for did in enotes:
        t = p.notes[did]['text']
        i0 = t.find(e['period']['start'][:10])
        if i0 >= 0:
            eh.append((did,) + section_at(t, i0, p.notes[did]['secs']))
    add(S, p.id, pick(['last visit?', 'most recent encounter + type', 'when was pt last seen']), 'answer',
        [[f'Encounter/{e["id"]}'] + docrefs(eh)], spans_of(eh), 'encounter-latest', f"{cc_text((e.get('type') or [{}])[0])} on {e['period']['start'][:10]}")
    k += 1
    if k >= 5:
        break

# care plans active
k = 0
for p in syn[1::2]:
    cps = [c for c in p.get('CarePlan') if c['status'] == 'active']
    if not cps or len(cps) > 4:
        continue
    def cpname(c):
        return cc_text((c.get('category') or [{}, {}])[-1]) if c.get('category') else c.get('title', '')
    add(S, p.id, pick(['active care plans?', 'any care plan in place', 'care plans currently active']), 'answer',
        [[f'CarePlan/{c["id"]}'] for c in cps], [], 'careplan-active', '; '.join(cpname(c) for c in cps))
    k += 1
    if k >= 4:
        break

# allergies
k = 0
for p in syn:
    al = p.get('AllergyIntolerance')
    if not al or len(al) > 4 or p.mentions('no known allergies'):
        continue
    facts = []
    for a in al:
        nm = cc_text(a['code'])
        h = syn_note_hits(p, nm)
        facts.append([f'AllergyIntolerance/{a["id"]}'] + docrefs(h)[:0])
    add(S, p.id, ['allergies?', 'drug/food allergies', 'any known allergies'][k % 3], 'answer', facts, [], 'allergies',
        '; '.join(cc_text(a['code']) for a in al))
    k += 1
    if k >= 3:
        break
k = 0
for p in syn:
    if p.get('AllergyIntolerance') or p.mentions('allerg'):
        continue
    add(S, p.id, pick(['allergies?', 'NKDA?']), 'decline', [], [], 'allergies-absent', 'no allergy information recorded')
    k += 1
    if k >= 2:
        break

# absent items
SYN_ABS = [('pt on warfarin?', ['warfarin', 'coumadin', 'anticoag']),
           ('insulin regimen?', ['insulin']),
           ('last INR?', ['inr', 'prothrombin', 'coagulation']),
           ('any hx of stroke?', ['stroke', 'cerebrovascular', 'cva']),
           ('who is the cardiologist?', ['cardiolog']),
           ('dialysis schedule?', ['dialysis']),
           ('last troponin', ['troponin']),
           ('on any inhalers?', ['inhal', 'albuterol', 'fluticasone', 'budesonide']),
           ('date of last colonoscopy', ['colonoscopy']),
           ('hep C status?', ['hepatitis c', 'hcv'])]
k = 0
for i, p in enumerate(syn[::-1]):
    for j in range(len(SYN_ABS)):
        q, terms = SYN_ABS[(i + j) % len(SYN_ABS)]
        if not p.mentions(*terms):
            add(S, p.id, q, 'decline', [], [], 'absent-item', f'{q.strip("?")}: not in record')
            k += 1
            break
    if k >= 9:
        break

# other patient
k = 0
for i, p in enumerate(syn[::4]):
    o = syn[(syn.index(p) + 7) % len(syn)]
    oname = f"{clean(o.given)} {clean(o.family)}"
    if clean(o.family).lower() in p.blob:
        continue
    add(S, p.id, [f"{oname}'s last A1c?", f'what meds is {oname} on', f'{oname} immunizations?'][k % 3], 'decline', [], [],
        'other-patient', f'asks about {oname}, a different patient')
    k += 1
    if k >= 3:
        break

n_syn = len(OUT) - n_demo

# ================================================================ MTSAMPLES
rows = {r['note_id']: r for r in csv.DictReader(open(MTS, newline='', encoding='utf-8'))}
MH = re.compile(r"(?:(?<=^)|(?<=[\s,.]))([A-Z][A-Z0-9 /&()'\-]{1,60}[A-Z)]):")


def mts_sections(t):
    ms = list(MH.finditer(t))
    out = []
    for i, m in enumerate(ms):
        en = ms[i + 1].start() if i + 1 < len(ms) else len(t)
        seg = t[m.start():en]
        seg = seg.rstrip(' ,\n\t')
        out.append((m.group(1).strip(), m.start(), m.start() + len(seg)))
    return out


def mts_q(nid, q, header=None, absent=None, cat=None, contains=None):
    """header: exact header name (first occurrence, or the one whose body holds `contains`).
    absent: list of lowercase terms none of which may appear in the report -> decline."""
    t = rows[nid]['transcription'].strip()
    pid = f'mts-{nid}'
    if absent is not None:
        low = t.lower()
        bad = [a for a in absent if a in low]
        assert not bad, (nid, q, bad)
        add('mtsamples', pid, q, 'decline', [], [], cat or 'section-absent', f'report has no {absent[0]} information')
        return
    secs = [s for s in mts_sections(t) if s[0] == header]
    assert secs, (nid, header, [s[0] for s in mts_sections(t)])
    if contains:
        secs = [s for s in secs if contains.lower() in t[s[1]:s[2]].lower()]
        assert secs, (nid, header, contains)
    _, s, e = secs[0]
    body = t[s + len(header) + 1:e].strip(' ,')
    assert body, (nid, header)
    add('mtsamples', pid, q, 'answer', [[f'DocumentReference/mts-doc-{nid}']],
        [[f'DocumentReference/mts-doc-{nid}', s, e]], cat or f'section:{header.lower()}',
        (body[:100] + ('...' if len(body) > 100 else '')))


ALLERGY = ['allerg', 'nkda']
EBL = ['blood loss', 'ebl']
SPEC = [
    # (note_id, [(question, header or None, absent-terms or None, category, contains)])
    ('1', [('assessment?', 'ASSESSMENT', None, None, None), ('allergies', 'ALLERGIES', None, None, None),
           ('EBL?', None, EBL, 'absent:ebl', None)]),
    ('14', [('PSH?', 'PAST SURGICAL HISTORY', None, None, None), ('plan', 'PLAN', None, None, None)]),
    ('4806', [('stress test conclusion?', 'CONCLUSION', None, None, None),
              ('hosp course?', None, ['hospital course', 'admitted', 'admission'], 'absent:hospital course', None)]),
    ('4631', [('tilt table recs?', 'RECOMMENDATIONS', None, None, None), ('complications', 'COMPLICATIONS', None, None, None),
              ('family hx?', None, ['family history', 'family hx', 'fhx'], 'absent:family history', None)]),
    ('2906', [('impression and plan?', 'IMPRESSION AND PLAN', None, None, None), ('meds', 'MEDICATIONS', None, None, None)]),
    ('133', [('d/c dx?', 'DISCHARGE DIAGNOSES', None, None, None), ('pertinent labs', 'PERTINENT LABORATORIES', None, None, None),
             ('procedures done this admission?', 'PROCEDURES', None, None, None)]),
    ('3268', [('ROS', 'REVIEW OF SYSTEMS', None, None, None), ('last tetanus?', 'LAST TETANUS IMMUNIZATION', None, None, None),
              ('habits / tobacco etoh?', 'HABITS', None, None, None)]),
    ('1366', [('problem list?', 'PROBLEM LIST', None, None, None), ('med compliance?', 'MEDICATION COMPLIANCE', None, None, None),
              ('advance directive?', 'ADVANCED DIRECTIVE', None, None, None)]),
    ('1352', [('principal dx?', 'PRINCIPAL DIAGNOSES', None, None, None), ('A&P', 'ASSESSMENT AND PLAN', None, None, None),
              ('EBL?', None, EBL, 'absent:ebl', None)]),
    ('1466', [('sleep study conclusions', 'CONCLUSIONS', None, None, None),
              ('allergies?', None, ALLERGY, 'absent:allergies', None)]),
    ('1481', [('A&P?', 'ASSESSMENT AND PLAN', None, None, None), ('labs?', 'LABORATORY DATA', None, None, None)]),
    ('1724', [('calcium score?', 'CALCIUM SCORE', None, None, None), ('CCTA impression', 'IMPRESSION', None, None, None)]),
    ('1751', [('meds?', 'MEDS', None, None, None), ('hospital course', 'COURSE', None, None, None),
              ('PMH', 'PMH', None, None, None)]),
    ('1808', [('substance hx?', 'SUBSTANCE AND ALCOHOL HISTORY', None, None, None), ('legal hx', 'LEGAL HISTORY', None, None, None)]),
    ('3050', [('nephro recs?', 'RECOMMENDATIONS', None, None, None), ('labs', 'LABS', None, None, None),
              ('EBL', None, EBL, 'absent:ebl', None)]),
    ('2980', [('reason for consult?', 'REASON FOR CONSULT', None, None, None), ('plan?', 'PLAN', None, None, None)]),
    ('3085', [('final dx on path?', 'FINAL DIAGNOSIS', None, None, None), ('gross description', 'GROSS DESCRIPTION', None, None, None),
              ('pt meds?', None, ['medication', 'meds'], 'absent:medications', None)]),
    ('3088', [('work comp assessment?', 'ASSESSMENT', None, None, None), ('vaccinations?', 'VACCINATIONS', None, None, None)]),
    ('3106', [('hospice plan?', 'PLAN', None, None, None), ('allergies', None, ALLERGY, 'absent:allergies', None)]),
    ('3199', [('heme recs', 'RECOMMENDATIONS', None, None, None), ('PSH', 'PAST SURGICAL HISTORY', None, None, None)]),
    ('3474', [('final impression?', 'FINAL IMPRESSION', None, None, None), ('diet?', 'DIET', None, None, None)]),
    ('3617', [('dispo?', 'DISPOSITION', None, None, None), ('MDM', 'MEDICAL DECISION MAKING', None, None, None)]),
    ('3771', [('procedure done in clinic?', 'PROCEDURE', None, None, None), ('ENT recs?', 'RECOMMENDATIONS', None, None, None)]),
    ('3791', [('labs?', 'LABORATORY DATA', None, None, None), ('impression/plan', 'IMPRESSION/PLAN', None, None, None)]),
    ('3865', [('assessment', 'ASSESSMENT', None, None, None), ('neuro exam?', 'NEUROLOGIC', None, None, None),
              ('social hx?', None, ['social history', 'smok', 'tobacco', 'alcohol'], 'absent:social history', None)]),
    ('3857', [('critical care time', 'CRITICAL CARE NOTE', None, None, None), ('ED course?', 'EMERGENCY DEPARTMENT COURSE', None, None, None),
              ('habits?', 'HABITS', None, None, None)]),
    ('3984', [('hospital course?', 'HOSPITAL COURSE', None, None, None), ('d/c weight?', 'DISCHARGE WEIGHT', None, None, None),
              ('d/c meds', 'MEDICATIONS', None, None, None)]),
    ('3934', [('d/c dx', 'DISCHARGE DIAGNOSIS', None, None, None), ('hosp course', 'HISTORY AND HOSPITAL COURSE', None, None, None),
              ('EBL?', None, EBL, 'absent:ebl', None)]),
    ('3975', [('complications during stay?', 'COMPLICATIONS', None, None, None), ('d/c plan', 'DISCHARGE PLAN', None, None, None),
              ('d/c condition', 'DISCHARGE CONDITION', None, None, None)]),
    ('4033', [('prescriptions given?', 'PRESCRIPTIONS', None, None, None), ('pt instructions', 'PATIENT INSTRUCTIONS', None, None, None)]),
    ('4501', [('coronary risk factors?', 'CORONARY RISK FACTORS', None, None, None), ('reason for consult', 'REASON FOR CONSULTATION', None, None, None)]),
    ('4609', [('prognosis?', 'PROGNOSIS', None, None, None), ('dx?', 'DIAGNOSES', None, None, None),
              ('meds?', None, ['medication', 'meds'], 'absent:medications', None)]),
    ('1282', [('short-term goals', 'SHORT-TERM GOALS (8 WEEKS)', None, None, None), ('speech dx?', 'SPEECH AND LANGUAGE THERAPY DIAGNOSIS', None, None, None)]),
    ('15', [('complications?', 'COMPLICATIONS', None, None, None), ('anesthesia type', 'ANESTHESIA', None, None, None),
            ('allergies?', None, ALLERGY, 'absent:allergies', None)]),
    ('2028', [('EBL?', 'ESTIMATED BLOOD LOSS', None, None, None), ('specimen sent?', 'SPECIMEN', None, None, None),
              ('hospital course?', None, ['hospital course', 'discharge'], 'absent:hospital course', None)]),
    ('2171', [('drains?', 'DRAINS', None, None, None), ('surgical prognosis', 'SURGICAL PROGNOSIS', None, None, None)]),
    ('2533', [('findings?', 'FINDINGS', None, None, None), ('EBL', 'ESTIMATED BLOOD LOSS', None, None, None),
              ('home meds?', None, ['medication', 'meds'], 'absent:medications', None)]),
    ('2587', [('UOP?', 'URINE OUTPUT', None, None, None), ('complications', 'COMPLICATIONS', None, None, None),
              ('family hx', None, ['family history', 'fhx'], 'absent:family history', None)]),
    ('37', [('specimen to path?', 'SPECIMEN TO PATHOLOGY', None, None, None), ('indications', 'INDICATIONS FOR PROCEDURE', None, None, None)]),
    ('42', [('dispo post op?', 'DISPOSITION', None, None, None), ('EBL?', 'ESTIMATED BLOOD LOSS', None, None, None)]),
    ('2401', [('EBL', 'ESTIMATED BLOOD LOSS', None, None, None), ('preop dx', 'PREOPERATIVE DIAGNOSIS', None, None, None),
              ('social hx?', None, ['social history', 'smok', 'tobacco', 'alcohol'], 'absent:social history', None)]),
    ('3490', [('op findings?', 'OPERATIVE FINDINGS', None, None, None), ('complications?', 'COMPLICATIONS', None, None, None)]),
    ('3738', [('indication for tubes?', 'INDICATION', None, None, None), ('dispo', 'DISPOSITION', None, None, None)]),
    ('1878', [('assessment?', None, None, None, None), ('developmental hx', 'DEVELOPMENTAL', None, None, None)]),
    ('1861', [('PT treatment plan?', 'TREATMENT PLAN', None, None, None), ('pt goal?', 'PATIENT GOAL', None, None, None),
              ('EBL?', None, EBL, 'absent:ebl', None)]),
    ('2453', [('tetanus status?', 'TETANUS STATUS', None, None, None), ('ED course', 'EMERGENCY DEPARTMENT COURSE', None, None, None)]),
]
# fill the one placeholder header for 1878 by lookup
for nid, qs in SPEC:
    if nid not in rows:
        continue
    for q, hdr, absent, cat, contains in qs:
        if hdr is None and absent is None:
            names = [s[0] for s in mts_sections(rows[nid]['transcription'].strip())]
            hdr = 'ASSESSMENT' if 'ASSESSMENT' in names else 'PLAN'
        try:
            mts_q(nid, q, hdr, absent, cat, contains)
        except AssertionError as ex:
            print('SKIP mts', nid, q, ex, file=sys.stderr)

# MTSamples: patient asked about by name of another person (relative)
for nid, q, terms in [('3199', "what are her husband's meds?", ['husband']),
                      ('1481', "what did the patient's sister's biopsy show?", ['sister', 'biopsy'])]:
    low = rows[nid]['transcription'].lower()
    if not any(t in low for t in terms[1:]) and terms[0] not in low:
        add('mtsamples', f'mts-{nid}', q, 'decline', [], [], 'other-person-relative', 'asks about a relative, not in report')
    else:
        print('SKIP relative', nid, file=sys.stderr)

n_mts = len(OUT) - n_demo - n_syn

# ---------------------------------------------------------------- thinning to the brief's size
# The generators above over-produce; keep the first N of each category (generation order
# already rotates through patients), so every world lands near the requested size.
CAPS = {
    'demo': {'pcp': 3, 'care-team-role': 5, 'care-team-former': 1, 'care-team-absent-role': 3, 'note-author': 3,
             'admission-date': 2, 'discharge-date': 3, 'length-of-stay': 2, 'admission-reason': 1,
             'admission-date+reason': 1, 'admission-absent': 2, 'ed-visit-absent': 1, 'discharge-plan': 4,
             'discharge-meds': 2, 'overdue-tasks': 3, 'upcoming-appointment': 3, 'missed-appointment': 1,
             'referral-status': 2, 'active-meds': 3, 'drug-class:anticoagulant': 2, 'drug-class:diuretic': 2,
             'drug-class:diabetes': 2, 'drug-class:inhaler': 1, 'absent-drug-class:anticoagulant': 2,
             'absent-drug-class:diuretic': 1, 'absent-drug-class:diabetes': 1, 'absent-drug-class:antibiotic': 1,
             'absent-drug-class:steroid': 1, 'inpatient-antibiotic': 1, 'steroid-status': 1, 'current-dose': 2,
             'lab-latest': 7, 'vital-latest': 2, 'vital-latest:bp': 2, 'absent-lab': 3, 'allergies-absent': 3,
             'tobacco': 1, 'tobacco-absent': 1, 'alcohol': 2, 'absent-item': 2, 'other-patient': 4,
             'other-person-relative': 1, 'careplan-open': 2},
    'synthea': {'lab-latest': 8, 'vital-latest': 4, 'vital-latest:bp': 3, 'active-meds': 4, 'med-status-stopped': 3,
                'condition-onset': 3, 'active-conditions': 3, 'immunization-latest': 6, 'procedure-latest': 4,
                'encounter-latest': 3, 'careplan-active': 3, 'allergies': 2, 'allergies-absent': 2,
                'absent-item': 9, 'other-patient': 3},
}
kept, seen_cat = [], {}
for q in OUT:
    if q['world'] in CAPS:
        c = q['category']
        seen_cat[(q['world'], c)] = seen_cat.get((q['world'], c), 0) + 1
        if seen_cat[(q['world'], c)] > CAPS[q['world']].get(c, 0):
            continue
    kept.append(q)
# MTSamples: every decline, the first answer of every report, then second answers until 52 answers
mts_keep, first_seen, extra = [], set(), []
for q in kept:
    if q['world'] != 'mtsamples':
        continue
    if q['expect'] == 'decline':
        mts_keep.append(q)
    elif q['patient_id'] not in first_seen:
        first_seen.add(q['patient_id'])
        mts_keep.append(q)
    else:
        extra.append(q)
WEAK = {'See the critical care note.', 'Labs in chart was reviewed.', 'None.', 'None', 'Unknown.'}
extra = [q for q in extra if q['truth'] not in WEAK]
n_ans = sum(1 for q in mts_keep if q['expect'] == 'answer')
mts_keep += extra[:max(0, 52 - n_ans)]
ids = {id(q) for q in mts_keep}
OUT = [q for q in kept if q['world'] != 'mtsamples' or id(q) in ids]
n_demo = sum(q['world'] == 'demo' for q in OUT)
n_syn = sum(q['world'] == 'synthea' for q in OUT)
n_mts = sum(q['world'] == 'mtsamples' for q in OUT)

# ---------------------------------------------------------------- write
with open(os.path.join(HERE, 'questions.jsonl'), 'w') as f:
    for i, q in enumerate(OUT, 1):
        rec = {'id': f'B-{i:03d}'}
        rec.update(q)
        f.write(json.dumps(rec, ensure_ascii=False) + '\n')
print(f'demo={n_demo} synthea={n_syn} mtsamples={n_mts} total={len(OUT)}', file=sys.stderr)
