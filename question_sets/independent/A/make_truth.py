#!/usr/bin/env python3
"""Author A: ground-truth generator for the care-coordinator / floor-nurse question set.

Reads only the data files named in CONTRACT.md and writes questions.jsonl next to this script.
Every answer (refs, spans, truth text) is computed here from the data; only the question
wording (the "human" part) is typed by hand.
"""
import base64, csv, glob, json, os, re, sys
from datetime import date

HERE = os.path.dirname(os.path.abspath(__file__))
DEMO = '/work/authoring/data/demo'
SYN_DIRS = ['/work/shared/data/synthea_fhir/wasee11_synthea_v3',
            '/work/shared/data/synthea_fhir/healthwallet_synthea']
MTS = '/work/shared/data/mtsamples/mtsamples.csv'

OUT = []          # finished question dicts
PREFIX = 'A'


class Skip(Exception):
    """Raised when the data does not answer a planned question exactly: the question is dropped."""


def emit(world, pid, question, expect, facts, spans, category, truth):
    # de-duplicate refs inside facts and spans
    facts2 = []
    for f in facts:
        seen = []
        for r in f:
            if r not in seen:
                seen.append(r)
        facts2.append(seen)
    sp2 = []
    for s in spans:
        s = list(s)
        if s not in sp2:
            sp2.append(s)
    if expect == 'decline':
        assert not facts2 and not sp2
    else:
        assert facts2 and all(facts2), (question, facts2)
    OUT.append({'id': None, 'world': world, 'patient_id': pid, 'question': question,
                'expect': expect, 'expected_facts': facts2, 'expected_spans': sp2,
                'category': category, 'truth': truth})


def safe(fn, *a, **k):
    try:
        fn(*a, **k)
    except Skip as e:
        print('SKIP', fn.__name__, a[:2], e, file=sys.stderr)


# ----------------------------------------------------------------------------------------------
# generic text helpers
# ----------------------------------------------------------------------------------------------
MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September',
          'October', 'November', 'December']


def d10(s):
    return s[:10] if s else None


def nice_date(iso):
    y, m, d = int(iso[:4]), int(iso[5:7]), int(iso[8:10])
    return f'{MONTHS[m-1]} {d}, {y}'


def date_regex(iso):
    """regex matching a calendar date written in the usual note styles."""
    y, m, d = int(iso[:4]), int(iso[5:7]), int(iso[8:10])
    mon = MONTHS[m-1]
    return (rf'(?:{mon} {d}(?:, {y})?\b|\b{m}/{d}(?:/{y})?\b|\b0?{m}/0?{d}/{str(y)[2:]}\b'
            rf'|{y}-{m:02d}-{d:02d})')


def num_regex(v):
    """regex for a number as it may be written: 1.6 -> 1.6 or 1.60, 239.0 -> 239"""
    if float(v) == int(v):
        return rf'(?<![\d.]){int(v)}(?:\.0+)?(?![\d])'
    s = ('%f' % v).rstrip('0')
    return rf'(?<![\d.]){re.escape(s)}0*(?![\d])'


def paragraphs(text):
    """(start, end) of blank-line separated blocks; a block consisting of a lone header line is
    merged with the block that follows it (so a section = header + its body)."""
    out = []
    for m in re.finditer(r'(?:[^\n]|\n(?![ \t\r]*\n))+', text):
        s, e = m.start(), m.end()
        while s < e and text[s] in ' \t\r\n':
            s += 1
        while e > s and text[e-1] in ' \t\r\n':
            e -= 1
        if e > s:
            out.append([s, e])
    merged = []
    for s, e in out:
        if merged:
            ps, pe = merged[-1]
            prev = text[ps:pe]
            if '\n' not in prev and (prev.rstrip().endswith(':') or prev.startswith('#')):
                merged[-1] = [ps, e]
                continue
        merged.append([s, e])
    return merged


def para_of(text, pos):
    for s, e in paragraphs(text):
        if s <= pos < e:
            return s, e
    raise Skip('no paragraph')


# ----------------------------------------------------------------------------------------------
# DEMO WORLD
# ----------------------------------------------------------------------------------------------
AS_OF = json.load(open(f'{DEMO}/WORLD.json'))['as_of']            # 2026-11-20
DIRECTORY = {}
for e in json.load(open(f'{DEMO}/directory.json'))['entry']:
    r = e['resource']
    DIRECTORY[f"{r['resourceType']}/{r['id']}"] = r


def prac_name(ref):
    r = DIRECTORY.get(ref)
    if not r:
        return ref
    n = r['name'][0]
    s = ' '.join(n.get('prefix', []) + n.get('given', []) + [n.get('family', '')])
    if n.get('suffix'):
        s += ', ' + ', '.join(n['suffix'])
    return s


class P:
    """one demo patient"""

    def __init__(self, num):
        self.file = f'{DEMO}/patient-{num:05d}.json'
        b = json.load(open(self.file))
        self.rs = [e['resource'] for e in b['entry']]
        self.patient = self.of('Patient')[0]
        self.id = self.patient['id']
        n = self.patient['name'][0]
        self.name = ' '.join(n['given']) + ' ' + n['family']
        self.notes = {}
        for r in self.of('DocumentReference'):
            self.notes[r['id']] = base64.b64decode(r['content'][0]['attachment']['data']).decode('utf-8')
        self.doc = {r['id']: r for r in self.of('DocumentReference')}
        self.alltext = (json.dumps(b) + '\n' + '\n'.join(self.notes.values())).lower()

    def of(self, t):
        return [r for r in self.rs if r['resourceType'] == t]

    def ref(self, r):
        return f"{r['resourceType']}/{r['id']}"

    # note search ---------------------------------------------------------------------------
    def note_hits(self, pattern, docs=None, head=None, flags=re.I):
        """[(docid, (s,e))] paragraphs (sections) matching pattern; head restricts to sections
        whose first line matches head."""
        out = []
        for did, txt in self.notes.items():
            if docs is not None and did not in docs:
                continue
            for s, e in paragraphs(txt):
                block = txt[s:e]
                if head and not re.search(head, block.split('\n')[0], re.I):
                    continue
                if re.search(pattern, block, flags):
                    out.append((did, (s, e)))
        return out

    def mentions(self, *words):
        return [w for w in words if re.search(w, self.alltext, re.I)]


PATS = {}


def pat(n):
    if n not in PATS:
        PATS[n] = P(n)
    return PATS[n]


def add_hits(fact, spans, hits):
    for did, (s, e) in hits:
        fact.append(f'DocumentReference/{did}')
        spans.append([f'DocumentReference/{did}', s, e])


def demo_emit(p, q, facts, spans, cat, truth):
    emit('demo', p.id, q, 'answer', facts, spans, cat, truth)


def demo_decline(p, q, cat, truth):
    emit('demo', p.id, q, 'decline', [], [], cat, truth)


# --- care team ----------------------------------------------------------------------------
def active_team(p):
    t = [r for r in p.of('CareTeam') if r['status'] == 'active']
    if len(t) != 1:
        raise Skip('active care teams != 1')
    return t[0]


def q_pcp(n, text):
    p = pat(n)
    gp = [g['reference'] for g in p.patient.get('generalPractitioner', [])]
    if len(gp) != 1:
        raise Skip('gp count')
    ct = active_team(p)
    members = [x['member']['reference'] for x in ct['participant']
               if re.search(r'primary care', x['role'][0]['text'], re.I)]
    if members != gp:
        raise Skip('pcp mismatch')
    fact = [f'Patient/{p.id}', p.ref(ct), gp[0]]
    demo_emit(p, text, [fact], [], 'pcp', f'{prac_name(gp[0])}')


def q_role(n, role_regex, text, cat):
    p = pat(n)
    ct = active_team(p)
    members = [(x['member']['reference'], x['role'][0]['text']) for x in ct['participant']
               if re.search(role_regex, x['role'][0]['text'], re.I)]
    if len(members) != 1:
        raise Skip(f'role matches {members}')
    ref, role = members[0]
    demo_emit(p, text, [[p.ref(ct), ref]], [], cat, f'{prac_name(ref)} ({role})')


def q_team_list(n, text):
    p = pat(n)
    ct = active_team(p)
    facts = [[p.ref(ct), x['member']['reference']] for x in ct['participant']]
    truth = '; '.join(f"{x['role'][0]['text']}: {prac_name(x['member']['reference'])}" for x in ct['participant'])
    demo_emit(p, text, facts, [], 'care-team', truth)


def q_prev_coordinator(n, text):
    p = pat(n)
    old = [r for r in p.of('CareTeam') if r['status'] == 'inactive']
    if len(old) != 1 or len(old[0]['participant']) != 1:
        raise Skip('prev team')
    ref = old[0]['participant'][0]['member']['reference']
    demo_emit(p, text, [[p.ref(old[0]), ref]], [], 'care-team-former',
              f"{prac_name(ref)} (former care coordinator, team ended {d10(old[0]['period'].get('end'))})")


# --- admissions -----------------------------------------------------------------------------
def admissions(p):
    return sorted([r for r in p.of('Encounter') if r['class']['code'] == 'IMP'],
                  key=lambda r: r['period']['start'])


def ds_for(p, enc):
    end = d10(enc['period']['end'])
    ds = [r for r in p.of('DocumentReference')
          if r['type']['coding'][0]['display'] == 'Discharge summary' and d10(r['date']) == end]
    if len(ds) != 1:
        raise Skip('discharge summary not unique')
    return ds[0]['id']


def q_admission(n, text, parts=('start', 'end', 'reason')):
    p = pat(n)
    adm = admissions(p)
    if len(adm) != 1:
        raise Skip('admission count')
    enc = adm[0]
    did = ds_for(p, enc)
    txt = p.notes[did]
    facts, spans, truth = [], [], []
    er = p.ref(enc)
    for part in parts:
        f = [er]
        if part == 'start':
            iso = d10(enc['period']['start'])
            add_hits(f, spans, p.note_hits(r'admission date:?\s*' + date_regex(iso), docs=[did]))
            truth.append(f'admitted {iso}')
        elif part == 'end':
            iso = d10(enc['period']['end'])
            add_hits(f, spans, p.note_hits(r'discharge date:?\s*' + date_regex(iso), docs=[did]))
            truth.append(f'discharged {iso}')
        elif part == 'reason':
            reason = enc['type'][0]['text'].split(' - ', 1)[1]
            for rr in enc.get('reasonReference', []):
                cid = rr['reference'].split(':')[-1]
                f.append(f'Condition/{cid}')
            key = {'acute on chronic systolic heart failure': r'heart failure',
                   'COPD exacerbation': r'exacerbation of COPD|COPD exacerbation',
                   'right hip fracture': r'right hip fracture', 'left hip fracture': r'left hip fracture'}[reason]
            add_hits(f, spans, p.note_hits(key, docs=[did], head=r'diagnos|reason for admission'))
            truth.append(f'for {reason}')
        elif part == 'where':
            org = enc['serviceProvider']['reference']
            f.append(org)
            add_hits(f, spans, p.note_hits(re.escape(DIRECTORY[org]['name']), docs=[did], head=r'.'))
            # title line only counts when it is in the first paragraph
            truth.append(f"at {DIRECTORY[org]['name']}")
        facts.append(f)
    # the where-hits may match many sections (signature etc.) -> keep only first paragraph
    demo_emit(p, text, facts, spans, 'admission', ', '.join(truth))


FOLLOW_HEAD = r'^(#\s*)?(follow-?up|recommendations)'
MAP_ITEMS = [
    (r'cardiology|Dr\. Farah|Dr\. Bell|heart failure clinic', ('ServiceRequest', r'cardiology service')),
    (r'\bBMP\b|metabolic panel', ('Task', r'BMP')),
    (r'home PT|physical therap', ('ServiceRequest', r'physiotherapy')),
    (r'home health|skilled nursing', ('ServiceRequest', r'home health')),
    (r'cardiac rehab', ('ServiceRequest', r'cardiac rehab')),
    (r'pulmonary rehab', ('ServiceRequest', r'pulmonary rehab')),
    (r'pulmon|Lindqvist', ('ServiceRequest', r'respiratory medicine')),
    (r'orthop|Adeyemi', ('ServiceRequest', r'orthopedic')),
    (r'oxygen', ('ServiceRequest', r'oxygen')),
]


def q_discharge_recs(n, text):
    p = pat(n)
    adm = admissions(p)
    if len(adm) != 1:
        raise Skip('admission count')
    did = ds_for(p, adm[0])
    txt = p.notes[did]
    secs = [(s, e) for s, e in paragraphs(txt) if re.search(FOLLOW_HEAD, txt[s:e].split('\n')[0], re.I)]
    if len(secs) != 1:
        raise Skip(f'follow-up sections {len(secs)}')
    s, e = secs[0]
    items = [l for l in txt[s:e].split('\n')[1:] if l.strip()]
    facts = []
    for it in items:
        f = [f'DocumentReference/{did}']
        # an item that matches the first pattern in MAP_ITEMS also stands as an order
        for pat_, (rt, code) in MAP_ITEMS:
            if re.search(pat_, it, re.I):
                for r in p.of(rt):
                    label = (r.get('code', {}).get('text') or '') + ' ' + (r.get('description') or '')
                    if re.search(code, label, re.I):
                        f.append(p.ref(r))
                break
        facts.append(f)
    truth = ' | '.join(re.sub(r'^\s*(?:[-*]|\d+\.)\s*', '', i) for i in items)
    demo_emit(p, text, facts, [[f'DocumentReference/{did}', s, e]], 'discharge-recommendations', truth)


def q_discharge_section(n, head_regex, text, cat):
    """answer = whole section of the discharge summary whose header matches (one fact per line)."""
    p = pat(n)
    adm = admissions(p)
    did = ds_for(p, adm[-1])
    txt = p.notes[did]
    secs = [(s, e) for s, e in paragraphs(txt) if re.search(head_regex, txt[s:e].split('\n')[0], re.I)]
    if len(secs) != 1:
        raise Skip('section count')
    s, e = secs[0]
    lines = txt[s:e].split('\n')
    first = lines[0]
    inline = re.sub(r'^(#\s*)?[A-Za-z /-]+:?\s*', '', first) if ':' in first else ''
    items = ([inline] if inline.strip() else []) + [l for l in lines[1:] if l.strip()]
    facts = [[f'DocumentReference/{did}'] for _ in items]
    demo_emit(p, text, facts, [[f'DocumentReference/{did}', s, e]], cat,
              ' | '.join(re.sub(r'^\s*(?:[-*]|\d+\.)\s*', '', i) for i in items))


# --- appointments / tasks / referrals ------------------------------------------------------
OPEN_TASK = {'draft', 'requested', 'received', 'accepted', 'ready', 'in-progress', 'on-hold'}


def due(t):
    return d10(t.get('restriction', {}).get('period', {}).get('end'))


def appt_who(a):
    out = []
    for x in a['participant']:
        ref = x['actor'].get('reference', '')
        if ref.startswith('Practitioner/'):
            out.append(prac_name(ref))
    return ', '.join(out)


def appt_fact(p, a):
    f = [p.ref(a)]
    iso = d10(a['start'])
    # tasks whose note states the booking date
    for t in p.of('Task'):
        for nt in t.get('note', []):
            if re.search(r'(booked|rebooked)[^.]*' + date_regex(iso), nt['text'], re.I):
                f.append(p.ref(t))
    hits = p.note_hits(r'(appointment|booked|scheduled|rescheduled|visit|follow-up)[^\n]{0,80}' + date_regex(iso))
    hits = [h for h in hits if p.doc[h[0]]['date'][:10] <= AS_OF]
    return f, hits


def q_upcoming_appts(n, text, service=None, only_next=False):
    p = pat(n)
    ap = [a for a in p.of('Appointment') if a['status'] == 'booked']
    if any(d10(a['start']) == AS_OF for a in ap):
        raise Skip('appt today')
    fut = sorted([a for a in ap if d10(a['start']) > AS_OF], key=lambda a: a['start'])
    if service:
        fut = [a for a in fut if re.search(service, a['serviceType'][0]['text'] + ' ' + a.get('description', ''), re.I)]
    if not fut:
        raise Skip('no upcoming')
    if only_next:
        fut = fut[:1]
    facts, spans, truth = [], [], []
    for a in fut:
        f, hits = appt_fact(p, a)
        add_hits(f, spans, hits)
        facts.append(f)
        truth.append(f"{a.get('description')} {d10(a['start'])} {a['start'][11:16]} with {appt_who(a)}")
    demo_emit(p, text, facts, spans, 'appointment-next' if only_next else 'appointments-upcoming', '; '.join(truth))


def q_noshow(n, text):
    p = pat(n)
    ns = sorted([a for a in p.of('Appointment') if a['status'] == 'noshow'], key=lambda a: a['start'])
    if not ns:
        raise Skip('no noshow')
    facts, spans, truth = [], [], []
    for a in ns:
        f = [p.ref(a)]
        iso = d10(a['start'])
        for t in p.of('Task'):
            if any(re.search(r'no-show ' + date_regex(iso), nt['text'], re.I) for nt in t.get('note', [])):
                f.append(p.ref(t))
        add_hits(f, spans, p.note_hits(r'(did not show|no-show|missed)[^\n]{0,80}' + date_regex(iso)))
        facts.append(f)
        truth.append(f"missed {a.get('description')} on {iso} ({appt_who(a)})")
    demo_emit(p, text, facts, spans, 'missed-appointment', '; '.join(truth))


def task_line(t):
    nt = '; '.join(x['text'] for x in t.get('note', []))
    return f"{t['description']} [{t['status']}, due {due(t)}, owner {prac_name(t['owner']['reference'])}]" + (f' - {nt}' if nt else '')


def q_tasks(n, text, which='overdue'):
    p = pat(n)
    ts = [t for t in p.of('Task') if t['status'] in OPEN_TASK]
    if any(due(t) == AS_OF for t in ts):
        raise Skip('task due today')
    if which == 'overdue':
        ts = [t for t in ts if due(t) and due(t) < AS_OF]
    if not ts:
        raise Skip('no tasks')
    ts.sort(key=lambda t: due(t) or '9999')
    facts = [[p.ref(t)] for t in ts]
    demo_emit(p, text, facts, [], 'tasks-overdue' if which == 'overdue' else 'tasks-open',
              ' | '.join(task_line(t) for t in ts))


def q_task_status(n, desc_regex, text):
    p = pat(n)
    ts = [t for t in p.of('Task') if re.search(desc_regex, t['description'], re.I)]
    if len(ts) != 1:
        raise Skip(f'task matches {len(ts)}')
    t = ts[0]
    od = ' (OVERDUE)' if t['status'] in OPEN_TASK and due(t) and due(t) < AS_OF else ''
    demo_emit(p, text, [[p.ref(t)]], [], 'task-status', task_line(t) + od)


def q_referral(n, code_regex, text):
    p = pat(n)
    srs = [r for r in p.of('ServiceRequest') if re.search(code_regex, r['code'].get('text', ''), re.I)]
    if len(srs) != 1:
        raise Skip(f'sr matches {len(srs)}')
    r = srs[0]
    nt = '; '.join(x['text'] for x in r.get('note', []))
    f = [p.ref(r)]
    # a care-plan activity for the same service states its status too
    what = re.sub(r'^referral (to|for) ', '', r['code']['text'], flags=re.I)
    for c in p.of('CarePlan'):
        for act in c.get('activity', []):
            if act['detail']['description'].lower().startswith(what.lower()[:18]):
                f.append(p.ref(c))
                nt += f"; care plan activity '{act['detail']['description']}' is {act['detail']['status']}"
    facts = [f]
    truth = f"{r['code']['text']}: status {r['status']}" + (f' - {nt}' if nt else '')
    demo_emit(p, text, facts, [], 'referral-status', truth)


def q_careplan(n, text, status_filter=None):
    p = pat(n)
    cps = [c for c in p.of('CarePlan') if c['status'] == 'active']
    if len(cps) != 1:
        raise Skip('careplans')
    c = cps[0]
    acts = [a['detail'] for a in c['activity'] if not status_filter or a['detail']['status'] in status_filter]
    if not acts:
        raise Skip('no activities')
    facts = [[p.ref(c)] for _ in acts]
    demo_emit(p, text, facts, [], 'care-plan' if not status_filter else 'care-plan-pending',
              f"{c.get('title')}: " + ' | '.join(f"{a['description']} ({a['status']})" for a in acts))


# --- medications -----------------------------------------------------------------------------
def med_key(r):
    t = r['medicationCodeableConcept']['text']
    w = t.split()[0].lower()
    if w == 'insulin':
        w = 'glargine'
    return w


def med_fact(p, r, spans):
    f = [p.ref(r)]
    k = med_key(r)
    same = [m for m in p.of('MedicationRequest') if med_key(m) == k]
    if len(same) == 1:
        pat_ = rf'\b{k}'
    else:
        dose = re.search(r'(\d+(?:\.\d+)?)\s*(mg|units)', r['dosageInstruction'][0]['text'])
        pat_ = rf'\b{k}[^\n]{{0,25}}?(?<![\d.]){re.escape(dose.group(1))}\s*(mg|units|MG)'
        # need frequency too when the only difference is frequency (furosemide 40 daily vs bid)
    hits = p.note_hits(pat_, head=r'medication')
    add_hits(f, spans, hits)
    return f


def active_meds(p):
    return [r for r in p.of('MedicationRequest') if r['status'] == 'active']


def med_desc(r):
    return f"{r['medicationCodeableConcept']['text']} ({r['dosageInstruction'][0]['text']})"


def q_current_meds(n, text):
    p = pat(n)
    ms = active_meds(p)
    keys = [med_key(m) for m in ms]
    if len(set(keys)) != len(keys):
        raise Skip('two active of same drug')
    spans = []
    facts = [med_fact(p, m, spans) for m in ms]
    demo_emit(p, text, facts, spans, 'meds-current', '; '.join(med_desc(m) for m in ms))


DRUG_CLASSES = {
    'blood thinner': (['warfarin', 'enoxaparin'],
                      r'warfarin|coumadin|enoxaparin|lovenox|heparin|apixaban|eliquis|rivaroxaban|xarelto|dabigatran|edoxaban|anticoag|blood thinner'),
    'water pill': (['furosemide', 'spironolactone'],
                   r'furosemide|lasix|spironolactone|torsemide|bumetanide|hydrochlorothiazide|hctz|chlorthalidone|diuretic|water pill|diures'),
    'insulin': (['glargine'], r'insulin|glargine|lantus|humalog|lispro|aspart|novolog|detemir|degludec'),
    'statin': (['atorvastatin'], r'statin\b|atorvastatin|rosuvastatin|simvastatin|pravastatin|lovastatin|lipitor|crestor'),
    'antidepressant': (['sertraline'], r'sertraline|zoloft|fluoxetine|citalopram|escitalopram|paroxetine|bupropion|venlafaxine|duloxetine|mirtazapine|trazodone|antidepress'),
    'opioid': (['oxycodone'], r'oxycodone|hydrocodone|morphine|tramadol|hydromorphone|fentanyl|codeine|opioid|opiate|percocet|norco'),
    'beta blocker': (['carvedilol', 'metoprolol'], r'carvedilol|metoprolol|atenolol|bisoprolol|propranolol|beta.?blocker'),
    'inhaler': (['albuterol', 'tiotropium', 'fluticasone'], r'inhaler|albuterol|tiotropium|fluticasone|salmeterol|budesonide|ipratropium|inhal'),
    'steroid': (['prednisone'], r'prednisone|methylprednisolone|dexamethasone|hydrocortisone|steroid'),
    'diabetes pill': (['metformin'], r'metformin|glipizide|glyburide|glimepiride|sitagliptin|januvia|empagliflozin|jardiance|dapagliflozin|pioglitazone|semaglutide|liraglutide|dulaglutide'),
    'sleeping pill': ([], r'zolpidem|ambien|eszopiclone|temazepam|lorazepam|diazepam|alprazolam|clonazepam|benzodiazepine|sleeping pill|hypnotic|melatonin'),
    'pain pill': (['oxycodone', 'acetaminophen'], None),
    'antibiotic': ([], r'antibiotic|amoxicillin|azithromycin|doxycycline|cephalexin|ceftriaxone|levofloxacin|ciprofloxacin|augmentin|penicillin|clindamycin|bactrim|sulfamethoxazole'),
    'bone medicine': (['alendronate'], r'alendronate|fosamax|risedronate|ibandronate|zoledronic|denosumab|bisphosphonate'),
    'ace inhibitor': (['lisinopril'], r'lisinopril|enalapril|ramipril|benazepril|captopril|ace inhibitor'),
}


def q_drug_class(n, cls, text):
    p = pat(n)
    names, rx = DRUG_CLASSES[cls]
    ms = [m for m in active_meds(p) if med_key(m) in names]
    if ms:
        spans = []
        facts = [med_fact(p, m, spans) for m in ms]
        demo_emit(p, text, facts, spans, 'drug-class', f'yes: ' + '; '.join(med_desc(m) for m in ms))
        return
    # not active: decline only when nothing in the whole record mentions the class
    if p.mentions(rx):
        raise Skip(f'{cls} mentioned somewhere but not active')
    demo_decline(p, text, 'absent-drug-class', f'no {cls} anywhere in the record')


def q_stopped_med(n, key, text):
    """what happened to drug X: stopped order + active replacement"""
    p = pat(n)
    ms = [m for m in p.of('MedicationRequest') if med_key(m) == key]
    st = [m for m in ms if m['status'] == 'stopped']
    ac = [m for m in ms if m['status'] == 'active']
    if len(st) != 1 or len(ac) != 1:
        raise Skip('stop/active pattern')
    spans = []
    f_new = med_fact(p, ac[0], spans)
    demo_emit(p, text, [[p.ref(st[0])], f_new], spans, 'med-change',
              f"old: {med_desc(st[0])} stopped ({st[0].get('note', [{}])[0].get('text', '')}); now: {med_desc(ac[0])} since {d10(ac[0]['authoredOn'])}")


# --- observations ------------------------------------------------------------------------------
LABS = {
    '2160-0': ('creatinine', r'creatinine|\bcr\b'),
    '2823-3': ('potassium', r'potassium|\bK\b'),
    '30934-4': ('BNP', r'BNP|natriuretic'),
    '4548-4': ('HbA1c', r'A1c'),
    '13457-7': ('LDL', r'LDL'),
    '33914-3': ('eGFR', r'eGFR|GFR'),
    '29463-7': ('weight', r'weigh|wt\b'),
    '59408-5': ('SpO2', r'SpO2|sat|oxygen'),
    '6301-6': ('INR', r'INR'),
    '44261-6': ('PHQ-9', r'PHQ'),
    '75626-2': ('AUDIT-C', r'AUDIT'),
}


def q_lab(n, code, text):
    p = pat(n)
    obs = [o for o in p.of('Observation') if o['code']['coding'][0]['code'] == code and o['status'] in ('final', 'amended', 'corrected')]
    if not obs:
        name, rx = LABS[code]
        if p.mentions(rx):
            raise Skip('lab absent as obs but mentioned')
        demo_decline(p, text, 'absent-lab', f'no {name} result in the record')
        return
    obs.sort(key=lambda o: o['effectiveDateTime'])
    last = obs[-1]
    if len(obs) > 1 and obs[-2]['effectiveDateTime'][:16] == last['effectiveDateTime'][:16]:
        raise Skip('tie')
    v = last['valueQuantity']['value']
    name, rx = LABS[code]
    f = [p.ref(last)]
    spans = []
    # notes (and task notes) written after the draw that state this value
    hits = p.note_hits(rf'(?:{rx})[^\n]{{0,45}}?{num_regex(v)}')
    hits = [h for h in hits if p.doc[h[0]]['date'][:10] >= last['effectiveDateTime'][:10]]
    add_hits(f, spans, hits)
    for t in p.of('Task'):
        if any(re.search(rf'(?:{rx})[^\n]{{0,20}}{num_regex(v)}', x['text']) for x in t.get('note', [])):
            f.append(p.ref(t))
    unit = last['valueQuantity'].get('unit', '')
    demo_emit(p, text, [f], spans, 'lab-latest' if code not in ('29463-7', '59408-5') else 'vital-latest',
              f"{name} {v:g} {unit} on {d10(last['effectiveDateTime'])}")


def q_lab_trend(n, code, text):
    p = pat(n)
    obs = sorted([o for o in p.of('Observation') if o['code']['coding'][0]['code'] == code], key=lambda o: o['effectiveDateTime'])
    if len(obs) < 2:
        raise Skip('trend')
    facts = [[p.ref(o)] for o in obs]
    name = LABS[code][0]
    demo_emit(p, text, facts, [], 'lab-trend', f'{name}: ' + ', '.join(f"{o['valueQuantity']['value']:g} ({d10(o['effectiveDateTime'])})" for o in obs))


# --- calls / notes ----------------------------------------------------------------------------
def q_last_call(n, text, what=True):
    p = pat(n)
    calls = sorted([e for e in p.of('Encounter') if e['class']['code'] == 'VR'], key=lambda e: e['period']['start'])
    if not calls:
        raise Skip('no calls')
    c = calls[-1]
    if len(calls) > 1 and d10(calls[-2]['period']['start']) == d10(c['period']['start']):
        raise Skip('two calls same day')
    docs = [r for r in p.of('DocumentReference') if r['date'][:16] == c['period']['start'][:16]
            and 'Telephone' in r['type']['coding'][0]['display']]
    if len(docs) != 1:
        raise Skip('call note')
    did = docs[0]['id']
    txt = p.notes[did]
    who = prac_name(c['participant'][0]['individual']['reference'])
    facts = [[p.ref(c), f'DocumentReference/{did}']]
    spans = []
    # the paragraph that tells what the call was about
    topic_rx = r'regarding|\bre:|reason for call|call to|discussion|subjective|no-show|did not show|missed'
    paras = [(s, e) for s, e in paragraphs(txt) if re.search(topic_rx, txt[s:e], re.I)]
    if not paras:
        raise Skip('no topic line')
    # the date is in the note header; accept the header paragraph too
    hs, he = para_of(txt, 0)
    spans = [[f'DocumentReference/{did}', hs, he]] + [[f'DocumentReference/{did}', s, e] for s, e in paras]
    topic = ' / '.join(txt[s:e].replace('\n', ' ') for s, e in paras)
    if what:
        facts.append([f'DocumentReference/{did}'])
    demo_emit(p, text, facts, spans, 'last-contact',
              f"{d10(c['period']['start'])} call by {who}; " + (topic[:240] if what else ''))


def q_note_fact(n, pattern, text, cat, truth, doc_type=None, structured=()):
    """answer stated in note text: every note paragraph matching pattern is accepted."""
    p = pat(n)
    docs = None
    if doc_type:
        docs = [r['id'] for r in p.of('DocumentReference') if re.search(doc_type, r['type']['coding'][0]['display'], re.I)]
    hits = p.note_hits(pattern, docs=docs)
    if not hits:
        raise Skip('no note hit for ' + pattern)
    f = list(structured)
    spans = []
    add_hits(f, spans, hits)
    demo_emit(p, text, [f], spans, cat, truth)


def q_absent(n, rx, text, cat, truth):
    p = pat(n)
    m = p.mentions(rx)
    if m:
        raise Skip(f'absent item is mentioned: {rx}')
    demo_decline(p, text, cat, truth)


def q_other_patient(n, other_n, text, truth_item):
    """question names another patient of the world; must decline."""
    p = pat(n)
    o = pat(other_n)
    if o.name.lower() in p.alltext or o.patient['name'][0]['family'].lower() in p.alltext.replace(p.patient['name'][0]['family'].lower(), ''):
        raise Skip('other name appears in this record')
    demo_decline(p, text, 'other-patient', f'asks about {o.name}, a different patient ({truth_item})')


def q_relative(n, rel_rx, text, truth):
    p = pat(n)
    demo_decline(p, text, 'other-person', truth)


def q_med_status(n, key, text):
    """drug that is no longer active (stopped/completed) and has no active order of the same drug"""
    p = pat(n)
    ms = [m for m in p.of('MedicationRequest') if med_key(m) == key]
    if len(ms) != 1 or ms[0]['status'] == 'active':
        raise Skip('med status pattern')
    m = ms[0]
    nt = '; '.join(x['text'] for x in m.get('note', []))
    demo_emit(p, text, [[p.ref(m)]], [], 'med-not-current',
              f"no - {med_desc(m)} order is {m['status']} (ordered {d10(m['authoredOn'])})" + (f' {nt}' if nt else ''))


def q_med_dose(n, key, text):
    p = pat(n)
    ms = [m for m in active_meds(p) if med_key(m) == key]
    if len(ms) != 1:
        raise Skip('dose pattern')
    m = ms[0]
    f = [p.ref(m)]
    spans = []
    instr = m['dosageInstruction'][0]['text']
    nums = re.findall(r'\d+(?:\.\d+)?', instr)
    # a note written on/after the order that states the same dosing (all numbers, same line)
    rx = rf'{key}[^\n]*' + r'[^\n]*'.join(re.escape(x) + r'(?![\d])' for x in nums)
    hits = [h for h in p.note_hits(rx) if p.doc[h[0]]['date'][:10] >= d10(m['authoredOn'])]
    add_hits(f, spans, hits)
    demo_emit(p, text, [f], spans, 'med-dose', med_desc(m) + f" since {d10(m['authoredOn'])}")


def q_attended(n, service_rx, text):
    """post-discharge visit attended: fulfilled appointment + finished encounter + completed task"""
    p = pat(n)
    ap = [a for a in p.of('Appointment') if a['status'] == 'fulfilled'
          and re.search(service_rx, a['serviceType'][0]['text'], re.I)]
    if len(ap) != 1:
        raise Skip('fulfilled appt')
    a = ap[0]
    iso = d10(a['start'])
    f = [p.ref(a)]
    for e in p.of('Encounter'):
        if d10(e['period']['start']) == iso and e['class']['code'] == 'AMB':
            f.append(p.ref(e))
    for t in p.of('Task'):
        if t['status'] == 'completed' and any(re.search('attended', x['text']) and re.search(date_regex(iso), x['text'])
                                              for x in t.get('note', [])):
            f.append(p.ref(t))
    docs = [r['id'] for r in p.of('DocumentReference') if d10(r['date']) == iso]
    spans = []
    if docs:
        s, e = para_of(p.notes[docs[0]], 0)
        f.append(f'DocumentReference/{docs[0]}')
        spans.append([f'DocumentReference/{docs[0]}', s, e])
    demo_emit(p, text, [f], spans, 'follow-up-attended', f"yes - {a.get('description')} on {iso} with {appt_who(a)} (fulfilled)")


def q_home_oxygen(n, text):
    p = pat(n)
    sr = [r for r in p.of('ServiceRequest') if re.search('oxygen', r['code'].get('text', ''), re.I)]
    if len(sr) != 1:
        raise Skip('oxygen sr')
    m = re.search(r'(\d+) L/min', sr[0]['note'][0]['text'])
    flow = m.group(1)
    f = [p.ref(sr[0])]
    for c in p.of('CarePlan'):
        if any(re.search(rf'oxygen {flow} L/min', a['detail']['description']) for a in c['activity']):
            f.append(p.ref(c))
    spans = []
    hits = p.note_hits(rf'oxygen[^\n]{{0,40}}(?<!\d){flow} (L|liters)\b|(?<!\d){flow} L at night|(?<!\d){flow} (L|liters) per minute')
    add_hits(f, spans, hits)
    demo_emit(p, text, [f], spans, 'home-oxygen', f'{flow} L/min ({sr[0]["note"][0]["text"]})')


# ------------------------------------------------------------------------------------------------
def build_demo():
    # ---------------- 00001 Stanley Delgado (CHF, recent admission) -----------------------------
    safe(q_admission, 1, 'when did stanley get admitted and when did he go home? what was it for', ('start', 'end', 'reason'))
    safe(q_discharge_recs, 1, 'what did the hospital recommend for him at dischrage?')
    safe(q_tasks, 1, 'anything open on my task list for this pt', 'open')
    safe(q_referral, 1, r'cardiac rehab', 'did the cardiac rehab referral ever go thru?')
    safe(q_last_call, 1, 'when was our last phone call with him and what was it about')
    safe(q_drug_class, 1, 'water pill', 'what water pill is he on now and how much')
    safe(q_lab, 1, '2823-3', 'whats his most recent potassium')
    safe(q_other_patient, 1, 35, "can you pull up Mei Green's discharge date for me", "Mei Green's admission is in her own chart")

    # ---------------- 00002 Eugene Lewis (diabetes, psych, SUD) ---------------------------------
    safe(q_pcp, 2, 'who is Eugene\'s primary care doctor?')
    safe(q_lab, 2, '4548-4', 'what was his last sugar test, the A1c one?')
    safe(q_task_status, 2, r'foot exam', 'did he ever get his diabetic foot exam done')
    safe(q_referral, 2, r'self-management', 'did he go to the diabetes classes we referred him to?')
    safe(q_drug_class, 2, 'insulin', 'is he on insulin?')
    safe(q_upcoming_appts, 2, 'what appointments does he have coming up', None, False)
    safe(q_absent, 2, r'allerg', 'does eugene have any allergies i should know about', 'absent-allergy', 'no allergy information recorded')

    # ---------------- 00003 Charles Mitchell (CHF) ----------------------------------------------
    safe(q_role, 3, r'^cardiology$', 'who is his heart doctor', 'specialist')
    safe(q_admission, 3, 'why was charles in the hospital in july', ('reason', 'start', 'end'))
    safe(q_current_meds, 3, 'can you list his current medicatons')
    safe(q_drug_class, 3, 'insulin', 'he on any insulin?')

    # ---------------- 00004 Carol Lewis (HTN, depression) ---------------------------------------
    safe(q_role, 4, r'care coordinator$', 'who is carol\'s care coordinator', 'care-coordinator')
    safe(q_drug_class, 4, 'antidepressant', 'is she taking anything for depression')
    safe(q_absent, 4, r'emergency|\bER\b|\bED\b', 'has she had any ER visits', 'absent-er-visit', 'no emergency visit in the record')

    # ---------------- 00005 Walter Baker (COPD) ------------------------------------------------
    safe(q_admission, 5, 'when was walter admitted for the copd flare and which hospital', ('start', 'end', 'where'))
    safe(q_referral, 5, r'pulmonary rehab', 'did he finish pulmonary rehab?')
    safe(q_upcoming_appts, 5, 'when is his next lung doctor appt', r'pulmon', True)
    safe(q_drug_class, 5, 'blood thinner', 'is walter on a blood thinner')

    # ---------------- 00006 Patricia Nguyen (diabetes) ----------------------------------------
    safe(q_upcoming_appts, 6, 'when does she see endocrinology', r'endocrin', True)
    safe(q_lab, 6, '4548-4', 'patricias latest a1c?')
    safe(q_current_meds, 6, 'what meds is patricia on right now')
    safe(q_careplan, 6, 'which items on her diabetes care plan are marked not started', ('not-started',))

    # ---------------- 00007 John Thompson (AFib, warfarin) -------------------------------------
    safe(q_lab, 7, '6301-6', 'whats his latest INR')
    safe(q_drug_class, 7, 'blood thinner', 'what blood thinner does john take and what dose')
    safe(q_task_status, 7, r'home INR monitor', 'where are we with the home INR monitor paperwork')
    safe(q_noshow, 7, 'did he miss any appointments?')
    safe(q_upcoming_appts, 7, 'next heart doctor visit for him?', r'cardio', True)

    # ---------------- 00008 William Fitzgerald (depression) -----------------------------------
    safe(q_tasks, 8, 'what tasks are overdue for william', 'overdue')
    safe(q_lab, 8, '44261-6', 'what was his last PHQ-9 score')
    safe(q_absent, 8, r'hospital admission|inpatient|admitted', 'when was he last admitted to the hospital', 'absent-admission', 'no hospital admission in the record')

    # ---------------- 00009 John White (hip fracture) -----------------------------------------
    safe(q_discharge_recs, 9, 'what were the follow up instructions when john left the hospital after his hip')
    safe(q_task_status, 9, r'orthopedics follow-up', 'did we get his ortho follow up scheduled?')
    safe(q_med_status, 9, 'enoxaparin', 'is he still on the lovenox shots')
    safe(q_careplan, 9, 'which parts of his hip fracture care plan havent been started yet', ('not-started',))
    safe(q_note_fact, 9, r'fell at home', 'how did he break his hip', 'history', 'fell at home getting up at night',
         'Discharge summary')

    # ---------------- 00010 Grace Ramirez (COPD, OSA) -----------------------------------------
    safe(q_pcp, 10, 'whos her pcp')
    safe(q_note_fact, 10, r'transportation fell through', 'why did grace miss her lung appointment', 'missed-appointment-reason',
         'transportation fell through that morning (missed 10/11/2026 pulmonology visit)')
    safe(q_home_oxygen, 10, 'how much oxygen is she supposed to be on at home?')
    safe(q_lab, 10, '59408-5', 'what was her last oxygen level')
    safe(q_drug_class, 10, 'inhaler', 'what inhalers is she using')

    # ---------------- 00011 Denise Torres (CHF) ----------------------------------------------
    safe(q_lab, 11, '2160-0', 'what is denise torres latest kidney function (creatinine)')
    safe(q_drug_class, 11, 'statin', 'is she on a statin')
    safe(q_admission, 11, 'when was she discharged from mercy', ('end',))

    # ---------------- 00012 Ana Delgado (depression) -----------------------------------------
    safe(q_pcp, 12, 'who is ana delgado\'s primary doctor')
    safe(q_noshow, 12, 'has she been missing her therapy appointments')
    safe(q_task_status, 12, r'bus pass', 'did the bus pass application ever get done for her')
    safe(q_upcoming_appts, 12, 'when is her next therapy session', r'psychotherapy', True)

    # ---------------- 00013 Gerald Harris (CHF) -----------------------------------------------
    safe(q_tasks, 13, 'what is overdue for gerald', 'overdue')
    safe(q_referral, 13, r'cardiac rehab', 'what is going on with his cardiac rehab referral')
    safe(q_note_fact, 13, r'no transportation', 'why was his heart appointment cancelled', 'cancel-reason',
         'cancelled 9/13/2026 because of no transportation', None,
         ['Appointment/' + a['id'] for a in pat(13).of('Appointment') if a['status'] == 'cancelled'] +
         ['Task/' + t['id'] for t in pat(13).of('Task') if 'no transportation' in json.dumps(t)])

    # ---------------- 00014 Martha Hall (CHF) -------------------------------------------------
    safe(q_team_list, 14, 'who all is on martha\'s care team')
    safe(q_prev_coordinator, 14, 'who was her care coordinator before')
    safe(q_lab, 14, '29463-7', 'what was her last weight')

    # ---------------- 00015 Thomas Campbell (AFib) -------------------------------------------
    safe(q_task_status, 15, r'recheck INR', 'is his INR recheck overdue?')
    safe(q_current_meds, 15, 'current meds for thomas campbell?')
    safe(q_absent, 15, r'allerg', 'any drug allergies on file', 'absent-allergy', 'no allergy information recorded')

    # ---------------- 00017 Wei Okonkwo (COPD) ------------------------------------------------
    safe(q_task_status, 17, r'pulmonology', 'did anyone book his pulmonology appt after discharge')
    safe(q_discharge_recs, 17, 'what did they want done after he was discharged')
    safe(q_note_fact, 17, r'quit smoking|smoking cessation', 'does wei smoke', 'social-smoking',
         'treated as a smoker: discharge plan says quit smoking - resources given; care plan smoking cessation support in progress',
         None, [r for r in ['CarePlan/'+c['id'] for c in pat(17).of('CarePlan') if any('Smoking' in a['detail']['description'] for a in c['activity'])]])

    # ---------------- 00018 Carol Rivera --------------------------------------------------
    safe(q_lab, 18, '13457-7', 'what was her most recent LDL cholesterol')
    safe(q_drug_class, 18, 'diabetes pill', 'is carol on metformin or any diabetes pills')

    # ---------------- 00019 Victor Wright (CHF) ---------------------------------------------
    safe(q_discharge_recs, 19, 'discharge follow up recomendations for victor?')
    safe(q_lab, 19, '30934-4', 'what is his latest BNP')
    safe(q_role, 19, r'home health', 'who is his home health nurse', 'home-health-nurse')

    # ---------------- 00021 Rosa Johnson (hip fracture) --------------------------------------
    safe(q_note_fact, 21, r"daughter's help", 'who is helping rosa with her shots at home', 'social-support',
         "daughter helps with daily enoxaparin injections")
    safe(q_upcoming_appts, 21, 'does she have any appointments coming up', None, False)
    safe(q_med_status, 21, 'oxycodone', 'is she still on oxycodone for pain')

    # ---------------- 00022 Martha Novak (CKD, DM) -------------------------------------------
    safe(q_lab, 22, '33914-3', 'what is her kidney function (gfr) lately')
    safe(q_role, 22, r'nephrolog', 'who is her kidney doctor', 'specialist')
    safe(q_current_meds, 22, 'list martha novak\'s meds please')

    # ---------------- 00023 Thomas Williams (AFib) ------------------------------------------
    safe(q_lab, 23, '6301-6', 'last inr for thomas williams?')
    safe(q_last_call, 23, 'when did we last talk to him on the phone')

    # ---------------- 00024 Dorothy Anderson -------------------------------------------------
    safe(q_note_fact, 28, r'one-day relapse', 'did sharon have a relapse with drinking', 'social-alcohol',
         'one-day relapse on July 18, 2026 after a family funeral')
    safe(q_role, 24, r'substance use', 'who is her substance use counselor', 'specialist')

    # ---------------- 00025 Samuel King -----------------------------------------------------
    safe(q_admission, 25, 'samuel king admission dates?', ('start', 'end'))
    safe(q_drug_class, 25, 'beta blocker', 'is he on a beta blocker')

    # ---------------- 00026 David Schmidt -----------------------------------------------------
    safe(q_current_meds, 26, 'what medications is david currently taking')
    safe(q_role, 26, r'endocrin', 'who is his endocrinologist', 'specialist')

    # ---------------- 00027 Denise Delgado (CHF, just discharged) ------------------------------
    safe(q_tasks, 27, 'what still needs to be done for denise delgado', 'open')
    safe(q_upcoming_appts, 27, 'is her post discharge heart appointmnet booked?', r'cardio', True)
    safe(q_stopped_med, 27, 'furosemide', 'did they change her lasix dose in the hospital')

    # ---------------- 00028 Sharon Haddad ----------------------------------------------------
    safe(q_drug_class, 28, 'opioid', 'is sharon on any opioid pain meds')
    safe(q_last_call, 28, 'last contact with sharon - what happened')

    # ---------------- 00029 Teresa Brown (COPD) --------------------------------------------
    safe(q_attended, 29, r'pulmon', 'did teresa make it to her pulmonary follow up')
    safe(q_other_patient, 29, 53, 'what oxygen flow is Dorothy Jones on', "Dorothy Jones's oxygen order is in her own chart")

    # ---------------- 00031 Eugene Robinson (AFib) -----------------------------------------
    safe(q_task_status, 31, r'home INR', 'why hasnt the home INR monitor enrollment been done')
    safe(q_med_dose, 31, 'warfarin', 'what is his warfarin dose now')

    # ---------------- 00033 Rajesh Harris (hip fx recent) ------------------------------------
    safe(q_drug_class, 33, 'blood thinner', 'is rajesh on a blood thinner after his surgery')
    safe(q_upcoming_appts, 33, 'when is his ortho follow up', r'ortho', True)
    safe(q_drug_class, 33, 'bone medicine', 'is he on anything for his bones/osteoporosis')

    # ---------------- 00034 Hannah Anderson (CHF) --------------------------------------------
    safe(q_note_fact, 34, r'felt unwell', 'why did hannah cancel her cardiology visit', 'cancel-reason',
         'patient felt unwell (cancelled 9/15/2026)', None,
         ['Appointment/' + a['id'] for a in pat(34).of('Appointment') if a['status'] == 'cancelled'] +
         ['Task/' + t['id'] for t in pat(34).of('Task') if 'felt unwell' in json.dumps(t)])
    safe(q_referral, 34, r'cardiac rehab', 'cardiac rehab status for her?')
    safe(q_absent, 34, r'dialysis|hemodialysis', 'when is her next dialysis session', 'absent-item', 'no dialysis in the record')

    # ---------------- 00035 Mei Green (CHF) --------------------------------------------------
    safe(q_upcoming_appts, 35, 'when is mei green seeing the cardiologist next', r'cardio', True)
    safe(q_drug_class, 35, 'ace inhibitor', 'is she on lisinopril?')

    # ---------------- 00036 Keisha Jackson ---------------------------------------------------
    safe(q_tasks, 36, 'any overdue tasks for keisha', 'overdue')
    safe(q_relative, 36, None, "what medications is keisha's mother taking", 'asks about a relative; not in this patient\'s record')

    # ---------------- 00037 Esther Roberts (CHF recent) --------------------------------------
    safe(q_lab, 37, '2160-0', 'whats esther\'s latest creatinine')
    safe(q_tasks, 37, 'open tasks for esther roberts?', 'open')
    safe(q_referral, 37, r'home health', 'was home health set up for her')

    # ---------------- 00038 Ruth Scott ------------------------------------------------------
    safe(q_lab, 38, '33914-3', 'how are her kidneys doing, latest egfr')
    safe(q_pcp, 38, 'ruth scott pcp?')

    # ---------------- 00039 Dennis Thompson -------------------------------------------------
    safe(q_drug_class, 39, 'blood thinner', 'is dennis on coumadin')
    safe(q_absent, 39, r'colonoscopy', 'when was his last colonoscopy', 'absent-procedure', 'no colonoscopy in the record')

    # ---------------- 00040 Hannah Delgado -------------------------------------------------
    safe(q_drug_class, 40, 'antidepressant', 'what antidepressant is she on and what dose')
    safe(q_other_patient, 40, 1, "what was Stanley Delgado's last potassium", "Stanley Delgado is another patient")

    # ---------------- 00041 Terrence Moore (COPD) -------------------------------------------
    safe(q_admission, 41, 'terrence moore hospital stay dates', ('start', 'end'))
    safe(q_current_meds, 41, 'what is he taking now')

    # ---------------- 00042 Robert Jones ----------------------------------------------------
    safe(q_lab, 42, '4548-4', 'roberts last a1c')
    safe(q_drug_class, 42, 'insulin', 'does robert use insulin')

    # ---------------- 00043 Grace Wilson (CHF) ----------------------------------------------
    safe(q_discharge_recs, 43, 'what were grace wilsons discharge instructions for follow up')
    safe(q_lab, 43, '29463-7', 'her last weight?')

    # ---------------- 00045 Samuel White (hip fx) --------------------------------------------
    safe(q_admission, 45, 'samuel white - when was he admitted and why', ('start', 'reason'))
    safe(q_absent, 45, r'allerg', 'allergies?', 'absent-allergy', 'no allergy information recorded')

    # ---------------- 00047 Priya Anderson (AFib) --------------------------------------------
    safe(q_pcp, 47, 'who is priyas primary care provider')
    safe(q_noshow, 47, 'did she no show to anything')

    # ---------------- 00049 Ruth Roberts (CHF) -----------------------------------------------
    safe(q_admission, 49, 'when was ruth roberts discharged', ('end',))
    safe(q_tasks, 49, 'overdue items for ruth roberts', 'overdue')

    # ---------------- 00050 Olga Scott (COPD) ------------------------------------------------
    safe(q_attended, 50, r'pulmon', 'did olga get seen by pulmonary after discharge')
    safe(q_med_status, 50, 'prednisone', 'is olga still on prednisone')

    # ---------------- 00051 John Brown (CHF) ------------------------------------------------
    safe(q_tasks, 51, 'whats overdue for john brown', 'overdue')
    safe(q_drug_class, 51, 'water pill', 'which diuretics is he on')

    # ---------------- 00052 Barbara Williams ------------------------------------------------
    safe(q_role, 52, r'therapist', 'who is her therapist', 'specialist')

    # ---------------- 00053 Dorothy Jones (COPD) --------------------------------------------
    safe(q_upcoming_appts, 53, 'dorothy jones next pulmonology appointment?', r'pulmon', True)
    safe(q_last_call, 53, 'what was discussed on the last call with dorothy jones')

    # ---------------- 00054 Hannah Walker ---------------------------------------------------
    safe(q_role, 54, r'^cardiology care coordinator$', 'who is coordinating her heart care', 'care-coordinator')

    # ---------------- 00055 Walter Harris (AFib) --------------------------------------------
    safe(q_lab, 55, '6301-6', 'walter harris most recent inr?')
    safe(q_role, 55, r'care coordinator', 'who is his care cordinator', 'care-coordinator')

    # ---------------- 00057 Rosa Nguyen (hip fx) -------------------------------------------
    safe(q_admission, 57, 'when was rosa nguyen in the hospital and what for', ('start', 'end', 'reason'))
    safe(q_discharge_recs, 57, 'what follow-up did the hospital want for her')

    # ---------------- 00058 Stanley Flores -------------------------------------------------
    safe(q_lab, 58, '2160-0', 'stanley flores kidney function - latest creatinine?')
    safe(q_drug_class, 58, 'statin', 'is he on a cholesterol med')

    # ---------------- 00059 Joyce Davis (CHF) ----------------------------------------------
    safe(q_admission, 59, 'why was joyce davis admitted in september', ('reason', 'start', 'end'))
    safe(q_absent, 59, r'pacemaker|defibrillator', 'does joyce have a pacemaker or defibrillator', 'absent-device', 'no pacemaker/ICD in the record')

    # ---------------- 00060 James Miller ----------------------------------------------------
    safe(q_pcp, 60, 'who is james millers doctor')
    safe(q_drug_class, 60, 'blood thinner', 'does james take any blood thinners')

    # ---------------- extra declines on other patients -------------------------------------------
    safe(q_lab, 1, '4548-4', 'whats stanleys a1c')
    safe(q_drug_class, 10, 'water pill', 'is grace on a water pill')
    safe(q_absent, 16, r'cardiol|heart doctor', 'when is jorge olsen seeing cardiology', 'absent-appointment', 'no cardiology care in the record')
    safe(q_absent, 56, r'allerg', 'does michael have drug allergies', 'absent-allergy', 'no allergy information recorded')
    safe(q_lab, 32, '6301-6', 'what was gerald bakers last INR')
    safe(q_other_patient, 52, 7, "can you check John Thompson's INR for me", "John Thompson is another patient")
    safe(q_absent, 20, r'emergency|\bER\b|\bED\b', 'did howard go to the ER recently', 'absent-er-visit', 'no emergency visit in the record')
    safe(q_absent, 44, r'oxygen', 'what is nadia flores home oxygen setting', 'absent-item', 'no home oxygen in the record')
    safe(q_absent, 48, r'colonoscopy', 'is olga davis due for her colonoscopy', 'absent-procedure', 'no colonoscopy in the record')
    safe(q_absent, 47, r'inpatient|admitted|admission|discharge summary', 'when was priya discharged from the hospital', 'absent-admission', 'no hospital admission in the record')


# ----------------------------------------------------------------------------------------------
# SYNTHEA
# ----------------------------------------------------------------------------------------------
def syn_files():
    out = {}
    for d in SYN_DIRS:
        for f in sorted(glob.glob(d + '/*.json')):
            if 'Information' in f:
                continue
            out[os.path.basename(f).split('_')[0].split('-')[0]] = f
    return out


SYNF = syn_files()
SYNP = {}


def md_sections(text):
    """sections of a markdown-ish note: from a '#' header line to the next '#' header line;
    text before the first header is its own section."""
    starts = [m.start() for m in re.finditer(r'(?m)^#', text)]
    bounds = [0] + starts + [len(text)]
    out = []
    for a, b in zip(bounds, bounds[1:]):
        s, e = a, b
        while s < e and text[s] in ' \t\r\n':
            s += 1
        while e > s and text[e-1] in ' \t\r\n':
            e -= 1
        if e > s:
            out.append((s, e))
    return out


class S:
    def __init__(self, key):
        self.file = SYNF[key]
        b = json.load(open(self.file))
        self.rs = [e['resource'] for e in b['entry']]
        self.byid = {r['id']: r for r in self.rs}
        self.patient = self.of('Patient')[0]
        self.id = self.patient['id']
        n = self.patient['name'][0]
        self.name = ' '.join(n.get('given', [])) + ' ' + n.get('family', '')
        self.notes = {}
        self.note_enc = {}
        for r in self.of('DocumentReference'):
            self.notes[r['id']] = base64.b64decode(r['content'][0]['attachment']['data']).decode('utf-8')
            for c in r.get('context', {}).get('encounter', []):
                self.note_enc.setdefault(c['reference'].split(':')[-1], []).append(r['id'])
        self.alltext = (json.dumps(b) + '\n'.join(self.notes.values())).lower()

    def of(self, t):
        return [r for r in self.rs if r['resourceType'] == t]

    def ref(self, r):
        return f"{r['resourceType']}/{r['id']}"

    def enc_notes(self, enc_ref):
        if not enc_ref:
            return []
        return self.note_enc.get(enc_ref.split(':')[-1].split('/')[-1], [])

    def hits_in(self, dids, pattern):
        out = []
        for did in dids:
            t = self.notes[did]
            for s, e in md_sections(t):
                if re.search(pattern, t[s:e], re.I):
                    out.append((did, (s, e)))
        return out


def sp(key):
    if key not in SYNP:
        SYNP[key] = S(key)
    return SYNP[key]


def syn_emit(p, q, facts, spans, cat, truth):
    emit('synthea', p.id, q, 'answer', facts, spans, cat, truth)


def syn_decline(p, q, cat, truth):
    emit('synthea', p.id, q, 'decline', [], [], cat, truth)


def eff(r):
    return r.get('effectiveDateTime') or r.get('effectivePeriod', {}).get('start') or r.get('issued')


def cdisp(cc):
    return cc.get('text') or cc['coding'][0].get('display')


def s_lab(key, disp_rx, text, cat='lab-latest', label=None):
    p = sp(key)
    obs = [o for o in p.of('Observation') if 'valueQuantity' in o and
           any(re.search(disp_rx, c.get('display', ''), re.I) for c in o['code']['coding'])]
    if not obs:
        raise Skip('no obs ' + disp_rx)
    obs.sort(key=lambda o: eff(o))
    last_t = eff(obs[-1])[:16]
    lasts = [o for o in obs if eff(o)[:16] == last_t]
    vals = {round(o['valueQuantity']['value'], 4) for o in lasts}
    if len(vals) != 1:
        raise Skip('tie with different values')
    o = lasts[-1]
    v = o['valueQuantity']['value']
    f = [p.ref(x) for x in lasts]
    spans = []
    # a note of the same encounter that states the value
    vs = ('%g' % round(v, 2))
    hits = p.hits_in(p.enc_notes(o.get('encounter', {}).get('reference')), re.escape(vs))
    add_hits(f, spans, hits)
    syn_emit(p, text, [f], spans, cat,
             f"{label or cdisp(o['code'])} {round(v, 2):g} {o['valueQuantity'].get('unit', '')} on {eff(o)[:10]}")


def s_bp(key, text):
    p = sp(key)
    obs = sorted([o for o in p.of('Observation') if o['code']['coding'][0]['code'] in ('85354-9', '55284-4')], key=eff)
    if not obs:
        raise Skip('no bp')
    o = obs[-1]
    if len(obs) > 1 and eff(obs[-2])[:16] == eff(o)[:16]:
        raise Skip('bp tie')
    comp = {c['code']['coding'][0]['code']: c['valueQuantity']['value'] for c in o['component']}
    syn_emit(p, text, [[p.ref(o)]], [], 'vital-latest',
             f"BP {comp.get('8480-6'):g}/{comp.get('8462-4'):g} mmHg on {eff(o)[:10]}")


def med_name(p, r):
    if 'medicationCodeableConcept' in r:
        return cdisp(r['medicationCodeableConcept'])
    m = p.byid.get(r['medicationReference']['reference'].split(':')[-1].split('/')[-1])
    return cdisp(m['code']) if m else r['medicationReference']['reference']


def s_active_meds(key, text):
    p = sp(key)
    ms = [m for m in p.of('MedicationRequest') if m['status'] == 'active']
    if not ms:
        raise Skip('no active meds')
    facts = [[p.ref(m)] for m in ms]
    syn_emit(p, text, facts, [], 'meds-current',
             '; '.join(f"{med_name(p, m)} (since {m['authoredOn'][:10]})" for m in ms))


def s_med(key, drug_rx, text):
    """is the patient taking X: active -> yes; only stopped -> no, stopped; absent -> decline"""
    p = sp(key)
    ms = [m for m in p.of('MedicationRequest') if re.search(drug_rx, med_name(p, m), re.I)]
    act = [m for m in ms if m['status'] == 'active']
    if act:
        syn_emit(p, text, [[p.ref(m) for m in act]], [], 'med-current-yes',
                 'yes: ' + '; '.join(f"{med_name(p, m)} active since {m['authoredOn'][:10]}" for m in act))
    elif ms:
        ms.sort(key=lambda m: m['authoredOn'])
        last = ms[-1]
        if last['status'] not in ('stopped', 'completed'):
            raise Skip('odd status')
        syn_emit(p, text, [[p.ref(last)]], [], 'med-stopped',
                 f"no: {med_name(p, last)} last ordered {last['authoredOn'][:10]}, status {last['status']}")
    else:
        if re.search(drug_rx, p.alltext, re.I):
            raise Skip('drug mentioned somewhere')
        syn_decline(p, text, 'absent-drug', f'no {drug_rx} in the record')


def s_condition(key, cond_rx, text):
    p = sp(key)
    cs = [c for c in p.of('Condition') if re.search(cond_rx, cdisp(c['code']), re.I)]
    if not cs:
        if re.search(cond_rx, p.alltext, re.I):
            raise Skip('condition mentioned elsewhere')
        syn_decline(p, text, 'absent-condition', f'no {cond_rx} in the record')
        return
    cs.sort(key=lambda c: c.get('onsetDateTime', ''))
    c = cs[-1]
    st = c['clinicalStatus']['coding'][0]['code']
    f = [p.ref(c)]
    spans = []
    add_hits(f, spans, p.hits_in(p.enc_notes(c.get('encounter', {}).get('reference')), re.escape(cdisp(c['code']))))
    syn_emit(p, text, [f], spans, 'condition',
             f"{cdisp(c['code'])}: {st}, onset {c.get('onsetDateTime', '')[:10]}" +
             (f", resolved {c['abatementDateTime'][:10]}" if c.get('abatementDateTime') else ''))


SOCIAL = r'\((finding|situation|person)\)$|employment|labor force|educated|housing|stress|isolation|social contact|violence|abuse|medication review|refugee|criminal|unemployed|risk activity|pregnancy'


def s_active_conditions(key, text):
    p = sp(key)
    cs = [c for c in p.of('Condition') if c['clinicalStatus']['coding'][0]['code'] == 'active'
          and not re.search(SOCIAL, cdisp(c['code']), re.I)]
    if not cs:
        raise Skip('no active conditions')
    facts = []
    spans = []
    for c in cs:
        f = [p.ref(c)]
        add_hits(f, spans, p.hits_in(p.enc_notes(c.get('encounter', {}).get('reference')), re.escape(cdisp(c['code']))))
        facts.append(f)
    syn_emit(p, text, facts, spans, 'conditions-active',
             '; '.join(f"{cdisp(c['code'])} (since {c.get('onsetDateTime', '')[:10]})" for c in cs))


def vacc_text_in_note(v):
    return re.escape(cdisp(v['vaccineCode']).lower())


def s_imm(key, vacc_rx, text):
    p = sp(key)
    vs = sorted([v for v in p.of('Immunization') if re.search(vacc_rx, cdisp(v['vaccineCode']), re.I)
                 and v.get('status', 'completed') == 'completed'], key=lambda v: v['occurrenceDateTime'])
    if not vs:
        if re.search(vacc_rx, p.alltext, re.I):
            raise Skip('vaccine mentioned elsewhere')
        syn_decline(p, text, 'absent-immunization', f'no {vacc_rx} vaccine recorded')
        return
    v = vs[-1]
    f = [p.ref(v)]
    spans = []
    add_hits(f, spans, p.hits_in(p.enc_notes(v.get('encounter', {}).get('reference')), vacc_text_in_note(v)))
    syn_emit(p, text, [f], spans, 'immunization-latest', f"{cdisp(v['vaccineCode'])} on {v['occurrenceDateTime'][:10]}")


def s_imm_series(key, vacc_rx, text):
    p = sp(key)
    vs = sorted([v for v in p.of('Immunization') if re.search(vacc_rx, cdisp(v['vaccineCode']), re.I)],
                key=lambda v: v['occurrenceDateTime'])
    if not vs:
        raise Skip('none')
    facts, spans = [], []
    for v in vs:
        f = [p.ref(v)]
        add_hits(f, spans, p.hits_in(p.enc_notes(v.get('encounter', {}).get('reference')), vacc_text_in_note(v)))
        facts.append(f)
    syn_emit(p, text, facts, spans, 'immunization-history',
             '; '.join(f"{cdisp(v['vaccineCode'])} {v['occurrenceDateTime'][:10]}" for v in vs))


def penc(r):
    return r['period']['start']


def s_last_visit(key, text):
    p = sp(key)
    es = sorted(p.of('Encounter'), key=penc)
    e = es[-1]
    if penc(es[-2])[:10] == penc(e)[:10]:
        raise Skip('two encounters same day')
    f = [p.ref(e)]
    spans = []
    for did in p.enc_notes(e['id']):
        s, en = md_sections(p.notes[did])[0]
        f.append(f'DocumentReference/{did}')
        spans.append([f'DocumentReference/{did}', s, en])
    syn_emit(p, text, [f], spans, 'encounter-last', f"{penc(e)[:10]}: {cdisp(e['type'][0])} ({e['class']['code']})")


def s_er(key, text):
    p = sp(key)
    es = sorted([e for e in p.of('Encounter') if e['class']['code'] == 'EMER'], key=penc)
    if not es:
        if re.search(r'emergency', p.alltext):
            raise Skip('emergency mentioned')
        syn_decline(p, text, 'absent-er-visit', 'no emergency encounters in the record')
        return
    facts, spans, truth = [], [], []
    for e in es:
        f = [p.ref(e)]
        rc = e.get('reasonCode', [])
        reasons = [cdisp(rc[0])] if rc else []
        if not reasons:
            # no coded reason: the diagnoses recorded at that encounter
            for c in p.of('Condition'):
                if (c.get('encounter', {}).get('reference', '').split(':')[-1].split('/')[-1] == e['id']
                        and c.get('onsetDateTime', '')[:10] == penc(e)[:10]):
                    reasons.append(cdisp(c['code']))
                    f.append(p.ref(c))
        for reason in reasons:
            add_hits(f, spans, p.hits_in(p.enc_notes(e['id']), re.escape(reason.lower())))
        facts.append(f)
        truth.append(f"{penc(e)[:10]} {', '.join(reasons) or '(no reason recorded)'}")
    syn_emit(p, text, facts, spans, 'er-visits', '; '.join(truth))


def s_last_er(key, text):
    p = sp(key)
    es = sorted([e for e in p.of('Encounter') if e['class']['code'] == 'EMER'], key=penc)
    if not es:
        raise Skip('no er')
    e = es[-1]
    rc = e.get('reasonCode', [])
    reason = cdisp(rc[0]) if rc else ''
    f = [p.ref(e)]
    spans = []
    if reason:
        add_hits(f, spans, p.hits_in(p.enc_notes(e['id']), re.escape(reason.lower())))
    syn_emit(p, text, [f], spans, 'er-visit-last', f"{penc(e)[:10]} {reason}".strip())


def pdate(r):
    return r.get('performedDateTime') or r.get('performedPeriod', {}).get('start')


def s_proc(key, proc_rx, text):
    p = sp(key)
    ps = sorted([r for r in p.of('Procedure') if re.search(proc_rx, cdisp(r['code']), re.I)], key=pdate)
    if not ps:
        if re.search(proc_rx, p.alltext, re.I):
            raise Skip('proc mentioned')
        syn_decline(p, text, 'absent-procedure', f'no {proc_rx} in the record')
        return
    r = ps[-1]
    f = [p.ref(r)]
    spans = []
    add_hits(f, spans, p.hits_in(p.enc_notes(r.get('encounter', {}).get('reference')), re.escape(cdisp(r['code']).lower())))
    syn_emit(p, text, [f], spans, 'procedure-latest', f"{cdisp(r['code'])} on {pdate(r)[:10]}")


def s_careplans(key, text):
    p = sp(key)
    cps = [c for c in p.of('CarePlan') if c['status'] == 'active']
    if not cps:
        raise Skip('no careplan')
    facts = [[p.ref(c)] for c in cps]
    def title(c):
        cats = [cdisp(x) for x in c.get('category', []) if x.get('coding') and x['coding'][0].get('system', '').startswith('http://snomed')]
        return cats[0] if cats else (c.get('title') or '?')
    syn_emit(p, text, facts, [], 'care-plans-active',
             '; '.join(f"{title(c)} (since {c['period']['start'][:10]}): " +
                       ', '.join(cdisp(a['detail']['code']) for a in c.get('activity', []) if 'detail' in a and 'code' in a['detail'])
                       for c in cps))


def s_allergies(key, text):
    p = sp(key)
    al = p.of('AllergyIntolerance')
    if al:
        nka = [d for d, t in p.notes.items() if 'no known allergies' in t.lower()]
        if nka:
            raise Skip('notes contradict allergy rows')
        facts = [[p.ref(a)] for a in al]
        syn_emit(p, text, facts, [], 'allergies',
                 '; '.join(f"{cdisp(a['code'])} ({', '.join(a.get('category', []))}, {a.get('clinicalStatus', {}).get('coding', [{}])[0].get('code')})" for a in al))
        return
    if p.notes:
        # every note that says so; the Allergies section of each
        hits = p.hits_in(list(p.notes), r'No Known Allergies')
        f = []
        spans = []
        add_hits(f, spans, hits)
        syn_emit(p, text, [f], spans, 'allergies-none', 'No Known Allergies (per notes; no allergy entries)')
        return
    if re.search(r'allerg', p.alltext):
        raise Skip('allergy mentioned')
    syn_decline(p, text, 'absent-allergy', 'no allergy information in the record')


def s_smoking(key, text):
    p = sp(key)
    obs = sorted([o for o in p.of('Observation') if o['code']['coding'][0]['code'] == '72166-2'], key=eff)
    if not obs:
        raise Skip('no smoking obs')
    o = obs[-1]
    val = cdisp(o['valueCodeableConcept'])
    f = [p.ref(o)]
    spans = []
    if p.notes:
        # Social History sections that state the same status
        kw = {'Never smoked tobacco (finding)': r'never smoked', 'Ex-smoker (finding)': r'quit smoking'}.get(val)
        if kw:
            docs = sorted(p.of('DocumentReference'), key=lambda r: r['date'])
            add_hits(f, spans, p.hits_in([d['id'] for d in docs if d['date'][:10] >= eff(o)[:10]], kw))
    syn_emit(p, text, [f], spans, 'social-smoking', f"{val} (as of {eff(o)[:10]})")


def s_absent(key, rx, text, cat, truth):
    p = sp(key)
    if re.search(rx, p.alltext, re.I):
        raise Skip('mentioned: ' + rx)
    syn_decline(p, text, cat, truth)


def s_other(key, other_key, text, truth):
    p = sp(key)
    o = sp(other_key)
    fam = re.sub(r'\d+', '', o.patient['name'][0]['family']).lower()
    if fam in p.alltext:
        raise Skip('other name in record')
    syn_decline(p, text, 'other-patient', truth)


def build_synthea():
    # ---- Alvin56 Jerde200 (MI 2023, HTN) ---------------------------------------------------------
    safe(s_er, 'Alvin56', 'has alvin been to the ER? when and what for')
    safe(s_active_meds, 'Alvin56', 'what meds is alvin on right now')
    safe(s_lab, 'Alvin56', r'^Low Density Lipoprotein Cholesterol|^Cholesterol in LDL', 'whats his latest LDL', 'lab-latest', 'LDL')
    safe(s_med, 'Alvin56', r'insulin', 'is he on insulin?')
    safe(s_smoking, 'Alvin56', 'does alvin smoke?')

    # ---- Ardath226 Feeney44 ----------------------------------------------------------------------
    safe(s_lab, 'Ardath226', r'^Hemoglobin A1c', 'what was her last a1c (sugar test)', 'lab-latest', 'HbA1c')
    safe(s_med, 'Ardath226', r'lisinopril', 'is ardath still taking lisinopril')
    safe(s_imm, 'Ardath226', r'zoster', 'when did she get the shingles shot')
    safe(s_allergies, 'Ardath226', 'any allergies for ardath?')

    # ---- Breana975 Harvey63 ----------------------------------------------------------------------
    safe(s_er, 'Breana975', 'how many times has breana been to the emergency room and why')
    safe(s_imm_series, 'Breana975', r'COVID', 'did she get her covid vaccine? when')
    safe(s_med, 'Breana975', r'cephalexin', 'is she still on the cephalexin antibiotic')

    # ---- Daniel959 Villaseñor332 -----------------------------------------------------------------
    safe(s_bp, 'Daniel959', 'what was daniels last blood pressure')
    safe(s_active_conditions, 'Daniel959', 'what health problems does daniel have (active ones)')
    safe(s_er, 'Daniel959', 'any ER visits for him')
    safe(s_proc, 'Daniel959', r'colonoscopy', 'when was his last colonoscopy')

    # ---- Ellsworth48 Kihn564 -------------------------------------------------------------------
    safe(s_last_visit, 'Ellsworth48', 'when was his last visit with us')
    safe(s_imm, 'Ellsworth48', r'influenza', 'when was his last flu shot')
    safe(s_med, 'Ellsworth48', r'amlodipine', 'is ellsworth on a blood pressure pill like amlodipine')

    # ---- Juana825 Pagan507 ---------------------------------------------------------------------
    safe(s_proc, 'Juana825', r'colonoscopy', 'did juana ever have a colonoscopy? when')
    safe(s_lab, 'Juana825', r'^Hemoglobin A1c', 'her most recent a1c', 'lab-latest', 'HbA1c')
    safe(s_smoking, 'Juana825', 'is she a smoker')
    safe(s_condition, 'Juana825', r'anemia', 'does she have anemia')

    # ---- Rich940 Schumm995 (child) --------------------------------------------------------------
    safe(s_last_er, 'Rich940', 'when was rich last in the ER and why')
    safe(s_imm_series, 'Rich940', r'HPV', 'has he had the HPV vaccine series')
    safe(s_lab, 'Rich940', r'^Body Weight', 'what did he weigh last time', 'vital-latest', 'weight')
    safe(s_med, 'Rich940', r'warfarin|apixaban|rivaroxaban|heparin|enoxaparin|clopidogrel', 'is rich on any blood thinners')

    # ---- Rosa195 Kerluke267 --------------------------------------------------------------------
    safe(s_condition, 'Rosa195', r'fibromyalgia', 'is fibromyalgia on her problem list')
    safe(s_active_meds, 'Rosa195', 'current medicines for rosa?')
    safe(s_lab, 'Rosa195', r'^Body mass index \(BMI\) \[Ratio\]|^Body Mass Index$', 'what is her BMI', 'vital-latest', 'BMI')

    # ---- Rosie394 Gutmann970 -------------------------------------------------------------------
    safe(s_med, 'Rosie394', r'B12|cobalamin', 'is rosie getting b12 shots')
    safe(s_condition, 'Rosie394', r'appendicitis', 'did she have appendicitis')
    safe(s_lab, 'Rosie394', r'^Cholesterol \[Mass/volume\] in Serum', 'her last total cholesterol', 'lab-latest', 'total cholesterol')

    # ---- Tiffaney302 Vandervort697 -------------------------------------------------------------
    safe(s_active_meds, 'Tiffaney302', 'what is tiffaney currently prescribed')
    safe(s_condition, 'Tiffaney302', r'obstructive bronchitis', 'does she have copd / chronic bronchitis')
    safe(s_smoking, 'Tiffaney302', 'smoking status?')

    # ---- healthwallet: Desiree125 Kling921 (1004385) -------------------------------------------
    safe(s_last_visit, '1004385', 'when was desiree last seen')
    safe(s_allergies, '1004385', 'does she have any allergies')
    safe(s_imm, '1004385', r'HPV', 'last HPV shot date?')

    # ---- Devin82 Frami345 (1004804) -------------------------------------------------------------
    safe(s_imm, '1004804', r'influenza', 'when did devin get his last flu vaccine')
    safe(s_lab, '1004804', r'^Body Weight', 'devins last weight', 'vital-latest', 'weight')
    safe(s_med, '1004804', r'insulin|metformin', 'is he on any diabetes medicaton')

    # ---- Dewitt635 Haag279 (1008261) ------------------------------------------------------------
    safe(s_allergies, '1008261', 'what is dewitt allergic to')
    safe(s_active_meds, '1008261', 'his active meds?')
    safe(s_careplans, '1008261', 'what care plans are active for dewitt')

    # ---- Dolores502 Peres371 (1012007) ----------------------------------------------------------
    safe(s_active_conditions, '1012007', 'what conditions does dolores have right now')
    safe(s_active_meds, '1012007', 'what is dolores taking')
    safe(s_er, '1012007', 'any emergency room trips for dolores?')

    # ---- Doretha289 Haley279 (1016624) ----------------------------------------------------------
    safe(s_bp, '1016624', 'whats her latest bp')
    safe(s_active_meds, '1016624', 'doretha current medication list')
    safe(s_absent, '1016624', r'dialysis', 'when is her dialysis', 'absent-item', 'no dialysis in the record')

    # ---- Dorian295 Smitham825 (1016810) ---------------------------------------------------------
    safe(s_lab, '1016810', r'^Hemoglobin A1c', 'dorians last a1c', 'lab-latest', 'HbA1c')
    safe(s_active_conditions, '1016810', 'what active problems does dorian have')
    safe(s_last_visit, '1016810', 'when was his most recent encounter')

    # ---- Dylan44 Olson653 (1023421, deceased 2001) ----------------------------------------------
    safe(s_proc, '1023421', r'coronary', 'did dylan have a heart procedure like a stent')
    safe(s_active_meds, '1023421', 'what meds was dylan on')

    # ---- Elenor843 Smith67 (1029391) ------------------------------------------------------------
    safe(s_med, '1029391', r'camila', 'is elenor on birth control')
    safe(s_imm_series, '1029391', r'HPV', 'elenor hpv vaccines - which dates')
    safe(s_absent, '1029391', r'asthma|inhaler|albuterol', 'does she use an asthma inhaler', 'absent-drug', 'no asthma or inhaler in the record')

    # ---- Elias404 Marks830 (1030236) ------------------------------------------------------------
    safe(s_active_meds, '1030236', 'what bp meds is elias marks on')
    safe(s_bp, '1030236', 'elias marks last blood pressure reading')
    safe(s_other, '1030236', '1030503', 'what is Elias Oberbrunner allergic to', 'asks about Elias Oberbrunner, a different patient')

    # ---- Elias404 Oberbrunner298 (1030503) -----------------------------------------------------
    safe(s_allergies, '1030503', 'what allergies does elias oberbrunner have')
    safe(s_med, '1030503', r'epinephrine', 'does he have an epipen')
    safe(s_careplans, '1030503', 'active care plans for him?')

    # ---- Elliot577 Beer512 (1034244, child) -----------------------------------------------------
    safe(s_allergies, '1034244', 'list elliots allergies')
    safe(s_condition, '1034244', r'asthma', 'when was he diagnosed with asthma')
    safe(s_careplans, '1034244', 'what is on his asthma care plan')

    # ---- Elvin140 Bartell116 (1045622) ----------------------------------------------------------
    safe(s_imm_series, '1045622', r'^MMR', 'has elvin had his MMR shots')
    safe(s_absent, '1045622', r'allerg', 'is elvin allergic to anything', 'absent-allergy', 'no allergy information in the record')

    # ---- Emanuel231 Champlin946 (1046675) -------------------------------------------------------
    safe(s_er, '1046675', 'how many ER visits has emanuel had and what were they for')
    safe(s_careplans, '1046675', 'what care plans does emanuel have going')
    safe(s_lab, '1046675', r'^Creatinine', 'his latest creatinine / kidney function', 'lab-latest', 'creatinine')

    # ---- Enedina292 Kiehn525 (1048205) ---------------------------------------------------------
    safe(s_lab, '1048205', r'^Body Mass Index$|^Body mass index \(BMI\) \[Ratio\]', 'enedina bmi?', 'vital-latest', 'BMI')
    safe(s_other, 'Daniel959', 'Juana825', "what was Juana Pagan's last a1c", 'asks about Juana Pagan, a different patient')
    safe(s_condition, 'Ardath226', r'asthma', 'does ardath have asthma')
    safe(s_med, 'Rosa195', r'insulin', 'is rosa on insulin')
    safe(s_imm, 'Juana825', r'HPV|papilloma', 'did juana ever get the hpv vaccine')
    safe(s_absent, '1012007', r'pacemaker|defibrillator', 'does dolores have a pacemaker', 'absent-device', 'no pacemaker/ICD in the record')
    safe(s_proc, '1046675', r'colonoscopy', "when was emanuel's last colonoscopy")
    safe(s_other, '1008261', '1034244', "what are Elliot Beer's allergies", 'asks about Elliot Beer, a different patient')
    safe(s_other, '1048205', '1029391', "when was Elenor Smith's last flu shot", 'asks about Elenor Smith, a different patient')


# ----------------------------------------------------------------------------------------------
# MTSAMPLES
# ----------------------------------------------------------------------------------------------
MTS_ROWS = {r['note_id']: r for r in csv.DictReader(open(MTS, encoding='utf-8'))}
HDR = re.compile(r"(?:(?<=^)|(?<=[,.:;]\s)|(?<=[,.]))\s*([A-Z][A-Z0-9 /&'()\-]{2,60}?):")


def mts_text(nid):
    return MTS_ROWS[nid]['transcription'].strip()


def mts_sections(t):
    """[(header, start, end)]: an ALL-CAPS header followed by ':' opens a section that runs to the
    next such header; text before the first header is a section with header ''."""
    hs = [(m.group(1).strip(), m.start(1)) for m in HDR.finditer(t)
          if re.search('[A-Z]{3}', m.group(1)) and m.group(1) == m.group(1).upper()]
    out = []
    if not hs or hs[0][1] > 0:
        out.append(('', 0, hs[0][1] if hs else len(t)))
    for i, (h, st) in enumerate(hs):
        en = hs[i+1][1] if i + 1 < len(hs) else len(t)
        out.append((h, st, en))
    res = []
    for h, a, b in out:
        while b > a and t[b-1] in ' ,\t\n':
            b -= 1
        res.append((h, a, b))
    return res


def mts_body(t, a, b):
    body = t[a:b]
    body = re.sub(r"^[A-Z][A-Z0-9 /&'()\-]{2,60}?:\s*,?\s*", '', body)
    return body.strip(' ,')


def mts_emit(nid, q, facts, spans, cat, truth):
    emit('mtsamples', f'mts-{nid}', q, 'answer', facts, spans, cat, truth)


def m_sec(nid, header, q, cat, items=None, numbered=False, nth=0):
    """answer = a whole section. items: substrings that must all be in the section (one fact
    each); numbered: one fact per '1.', '2.' ... item of the section."""
    t = mts_text(nid)
    secs = [x for x in mts_sections(t) if x[0] == header]
    if len(secs) <= nth:
        raise Skip(f'{nid}: no section {header}')
    h, a, b = secs[nth]
    body = mts_body(t, a, b)
    if not body:
        raise Skip('empty section')
    doc = f'DocumentReference/mts-doc-{nid}'
    if numbered:
        m1 = re.search(r'(?:^|(?<=[,.:\s]))1\.\s+', body)
        if not m1:
            raise Skip('not a numbered list')
        body = body[m1.start():]
        parts = [x.strip(' ,') for x in re.split(r'(?:^|(?<=[,.\s]))\d+\.\s+', body) if x.strip(' ,')]
        if len(parts) < 2:
            raise Skip('not a numbered list')
        facts = [[doc] for _ in parts]
        truth = ' | '.join(parts)
    elif items:
        for it in items:
            if it.lower() not in body.lower():
                raise Skip(f'item {it!r} not in section {header}')
        facts = [[doc] for _ in items]
        truth = ' | '.join(items)
    else:
        facts = [[doc]]
        truth = body
    mts_emit(nid, q, facts, [[doc, a, b]], cat, truth[:400])


def m_in(nid, pattern, q, cat, truth):
    """answer is a statement inside the report: every section containing pattern is accepted."""
    t = mts_text(nid)
    spans = []
    for h, a, b in mts_sections(t):
        if re.search(pattern, t[a:b], re.I):
            spans.append([f'DocumentReference/mts-doc-{nid}', a, b])
    if not spans:
        raise Skip(f'{nid}: pattern not found {pattern}')
    mts_emit(nid, q, [[f'DocumentReference/mts-doc-{nid}']], spans, cat, truth)


def m_decline(nid, absent_rx, q, cat, truth):
    t = mts_text(nid)
    if re.search(absent_rx, t, re.I):
        raise Skip(f'{nid}: {absent_rx} is mentioned')
    emit('mtsamples', f'mts-{nid}', q, 'decline', [], [], cat, truth)


def m_decline_empty(nid, header, q, cat, truth, also_absent=None):
    """the header exists but the section is empty (and the content is nowhere else)"""
    t = mts_text(nid)
    secs = [x for x in mts_sections(t) if x[0] == header]
    if len(secs) != 1 or mts_body(t, secs[0][1], secs[0][2]):
        raise Skip('section not empty')
    if also_absent and re.search(also_absent, t, re.I):
        raise Skip('content present elsewhere')
    emit('mtsamples', f'mts-{nid}', q, 'decline', [], [], cat, truth)


def build_mtsamples():
    # 1 Allergic rhinitis (Allergy / Immunology)
    m_sec('1', 'ALLERGIES', 'does she have any drug allergies', 'section:allergies')
    safe(m_sec, '1', 'PLAN', 'what is the plan for her allergy symptoms', 'section:plan', None, True)
    safe(m_decline, '1', r'x-ray|xray|radiograph|chest film|\bCXR\b', 'what did her chest xray show', 'absent-test',
         'no chest x-ray in the report')
    # 4996 Kawasaki discharge (Allergy / Immunology)
    safe(m_sec, '4996', 'DISCHARGE MEDICATIONS', 'what meds is the baby going home on', 'section:discharge medications')
    safe(m_sec, '4996', 'ADMITTING DIAGNOSIS', 'what was he admitted with', 'section:admitting diagnosis')
    safe(m_decline, '4996', r'allerg', 'any allergies listed for this kid', 'absent-allergy', 'report has no allergy information')
    # 14 Bariatric consult
    safe(m_sec, '14', 'ALLERGIES TO MEDICATIONS', 'what meds is she allergic to', 'section:allergies')
    safe(m_sec, '14', 'SOCIAL HISTORY', 'does she smoke or drink?', 'section:social history')
    safe(m_sec, '14', 'MEDICATIONS', 'list her current medicatons', 'section:medications',
         ['Crestor 20 mg', 'hydrochlorothiazide 20 mg', 'Veramist spray 27.5 mcg', 'Restasis', 'ibuprofen'])
    safe(m_sec, '14', 'FAMILY HISTORY', 'any family history we should know about', 'section:family history')
    # 4930 cardiac cath
    safe(m_sec, '4930', 'IMPRESSION', 'what did the heart cath show', 'section:impression', None, True)
    safe(m_in, '4930', r'EF 60%', 'what was his ejection fraction on the cath', 'finding', 'EF 60%, normal LV function')
    # 4427 feet & hand cramping (Consult - H&P)
    safe(m_sec, '4427', 'SOCIAL HISTORY', 'who does he live with, whats his social situation', 'section:social history')
    safe(m_sec, '4427', 'CURRENT MEDICATIONS', 'what meds does he take', 'section:medications', ['insulin', 'Bactrim'])
    safe(m_decline, '4427', r'a1c|glycated|glycosylated', 'what was his last a1c', 'absent-lab', 'no A1c in the report')
    # 3941 migraine discharge summary
    safe(m_sec, '3941', 'HOME MEDICATIONS', 'what were her home meds', 'section:home medications', None, True)
    safe(m_sec, '3941', 'ALLERGIES', 'any drug allergies', 'section:allergies')
    safe(m_sec, '3941', 'PROCEDURES DURING THIS HOSPITALIZATION', 'what tests did they do while she was in the hospital',
         'section:procedures', None, True)
    safe(m_sec, '3941', 'INSTRUCTIONS FOR FOLLOWUP', 'who does she follow up with after discharge', 'section:follow-up')
    # 3815 ER consult hernia pain
    safe(m_sec, '3815', 'VITAL SIGNS', 'what were his vitals in the ER', 'section:vital signs')
    safe(m_decline, '3815', r'smok|tobacco|cigar|alcohol|social', 'does he smoke or drink', 'absent-social-history',
         'report has no social history')
    # 3847 fall & laceration (ER)
    safe(m_sec, '3847', 'HPI', 'what happened to him, how did he get hurt', 'section:hpi')
    safe(m_sec, '3847', 'MEDS', 'is he on any meds at home', 'section:medications')
    safe(m_sec, '3847', 'COURSE IN THE ED', 'what did they do for him in the ED', 'section:ed course')
    # 3796 hyperthyroidism (Endocrinology)
    safe(m_sec, '3796', 'SOCIAL HISTORY', 'is she a smoker', 'section:social history')
    safe(m_in, '3796', r'TSH 0\.004', 'what was her tsh', 'lab', 'TSH 0.004 (free T4 19.3)')
    safe(m_sec, '3796', 'ASSESSMENT / PLAN', 'what is the assessment and plan', 'section:assessment/plan', None, True)
    # 3588 upper endoscopy (GI)
    safe(m_sec, '3588', 'IMPRESSION', 'what did they find on the scope', 'section:impression', None, True)
    safe(m_sec, '3588', 'MEDICATIONS', 'what sedation did he get for the endoscopy', 'section:medications',
         ['Fentanyl 125 mcg', 'Versed 7 mg'])
    safe(m_decline, '3588', r'allerg', 'does he have allergies', 'absent-allergy', 'report has no allergy information')
    # 3421 hypertension consult (General Medicine)
    safe(m_in, '3421', r'lives alone', 'does she live by herself', 'social', 'lives alone; no smoking or alcohol')
    safe(m_in, '3421', r'creatinine is 0\.8', 'what is her creatinine / kidney function', 'lab', 'creatinine 0.8')
    safe(m_in, '3421', r'182/78', 'what was her blood pressure at this visit', 'vital', '182/78')
    # 3214 substance abuse SOAP
    safe(m_sec, '3214', 'ASSESSMENT', 'what was the assessment', 'section:assessment')
    safe(m_in, '3214', r'blood pressure 108/60', 'what were his vitals', 'vital', 'weight 164 lb, BP 108/60, pulse 88, resp 16; temp not taken')
    # 3192 BRCA-2 discharge (Hem/Onc)
    safe(m_sec, '3192', 'OPERATIONS AND PROCEDURES', 'what surgery did she have and when', 'section:procedures')
    safe(m_sec, '3192', 'DISCHARGE MEDICATIONS', 'what is she going home on for pain', 'section:discharge medications')
    safe(m_sec, '3192', 'PATHOLOGY', 'what did the pathology show', 'section:pathology')
    # 3184 cholangiocarcinoma consult
    safe(m_sec, '3184', 'CURRENT MEDICATIONS', 'what is she currently taking', 'section:medications',
         ['Diovan 80/12.5 mg', 'Lipitor 10 mg', 'Lutein 20 mg', 'folic acid 0.8 mg', 'multivitamin'])
    safe(m_sec, '3184', 'SOCIAL HISTORY', 'does she drink or smoke', 'section:social history')
    safe(m_decline_empty, '3184', 'VITALS', 'what were her vital signs', 'absent-vitals', 'VITALS section is empty; no vitals in report',
         r'blood pressure|pulse|temperature|heart rate|\bBP\b|respirat')
    # 2992 PD catheter (Nephrology)
    safe(m_sec, '2992', 'INDICATIONS', 'why is she getting the dialysis catheter', 'section:indications')
    safe(m_sec, '2992', 'ANESTHESIA', 'what kind of anesthesia', 'section:anesthesia')
    safe(m_decline, '2992', r'discharge', 'what were the dischrage instructions', 'absent-section', 'no discharge instructions in the report')
    # 2960 cerebral angiogram (Neurology)
    safe(m_sec, '2960', 'SHX', 'social history for this kid?', 'section:social history')
    safe(m_sec, '2960', 'FHX', 'any family history', 'section:family history')
    # 2609 mammogram (OB/GYN)
    safe(m_sec, '2609', 'IMPRESSION', 'what was the mammogram result', 'section:impression')
    safe(m_in, '2609', r'maternal aunt', 'any breast cancer in her family', 'family', 'maternal aunt had breast cancer')
    # 2400 cataract surgery (Ophthalmology)
    safe(m_sec, '2400', 'OPERATION PERFORMED', 'which eye did they operate on and what was done', 'section:operation')
    safe(m_sec, '2400', 'ESTIMATED BLOOD LOSS', 'how much blood loss', 'section:blood loss')
    safe(m_decline, '2400', r'allerg', 'allergies for this patient?', 'absent-allergy', 'report has no allergy information')
    # 2287 carpal tunnel (Orthopedic)
    safe(m_sec, '2287', 'OPERATIVE PROCEDURE', 'what procedures were done', 'section:procedure', None, True)
    safe(m_sec, '2287', 'COMPLICATIONS', 'were there any complications', 'section:complications')
    # 1972 epidural steroid injection (Pain Management)
    safe(m_sec, '1972', 'INJECTATE USED', 'what did they inject', 'section:injectate')
    safe(m_sec, '1972', 'DISCHARGE SUMMARY', 'how did she do after the injection, was she sent home', 'section:discharge')
    # 1943 chronic otitis media (Pediatrics)
    safe(m_sec, '1943', 'SOCIAL HISTORY', 'is the baby around smoke or in daycare', 'section:social history')
    safe(m_sec, '1943', 'PLAN', 'whats the plan for his ears', 'section:plan')
    safe(m_sec, '1943', 'ALLERGIES', 'any allergies', 'section:allergies')
    # 1860 therapeutic recreation eval (PM&R)
    safe(m_sec, '1860', 'SHORT TERM GOALS/ONE WEEK GOALS', 'what are his short term goals', 'section:goals', None, True)
    safe(m_in, '1860', r'At discharge', 'where is he going to live after discharge', 'social',
         'at discharge he will live with his spouse; single-level home with no steps (currently living with his son)')
    # 1838 foreign body foot (Podiatry)
    safe(m_sec, '1838', 'PROCEDURE PERFORMED', 'what was done to his foot', 'section:procedure', None, True)
    safe(m_decline, '1838', r'allerg', 'is he allergic to anything', 'absent-allergy', 'report has no allergy information')
    # 1813 Asperger (Psychiatry)
    safe(m_sec, '1813', 'PLAN', 'what med changes did the psychiatrist make', 'section:plan')
    safe(m_sec, '1813', 'ASSESSMENT', 'what diagnoses did the psychiatrist give him', 'section:assessment',
         ['Asperger disorder', 'obsessive compulsive disorder'])
    # 1721 coronary CTA (Radiology)
    safe(m_sec, '1721', 'FINAL IMPRESSION', 'bottom line of the heart ct?', 'section:impression', None, True)
    # 1488 oligoarticular arthritis (Rheumatology)
    safe(m_sec, '1488', 'ASSESSMENT', 'what is the assessment', 'section:assessment')
    safe(m_sec, '1488', 'PLAN', 'what is the plan for his arthritis meds', 'section:plan')
    # 1395 fundoplication follow-up (SOAP)
    safe(m_sec, '1395', 'REASON FOR VISIT', 'why was she seen today', 'section:reason for visit')
    safe(m_sec, '1395', 'PLAN', 'follow up plan?', 'section:plan')
    # 1406 endometrial cancer follow-up (SOAP)
    safe(m_sec, '1406', 'CURRENT MEDICATIONS', 'what meds is she on', 'section:medications',
         ['Synthroid', 'ferrous sulfate 325 mg', 'multivitamin', 'Ativan 0.5 mg', 'gabapentin'])
    safe(m_decline_empty, '1406', 'ALLERGIES', 'what is she allergic to', 'absent-allergy', 'ALLERGIES header is empty',
         r'no known|NKDA|allergic to')
    safe(m_in, '1406', r'Adjuvant chemotherapy with cisplatin', 'what chemo is she getting', 'treatment',
         'adjuvant cisplatin, Adriamycin and Abraxane')
    # 973 cone biopsy (Surgery)
    safe(m_sec, '973', 'SPECIMENS', 'what specimens were sent', 'section:specimens',
         ['Cone biopsy', 'endocervical curettings', 'endometrial curettings'])
    safe(m_sec, '973', 'INDICATIONS FOR PROCEDURE', 'why did she need the cone biopsy', 'section:indications')
    # 147 cystoscopy (Urology)
    safe(m_sec, '147', 'ANESTHESIA', 'what anesthesia did he have', 'section:anesthesia')
    safe(m_sec, '147', 'PROCEDURE PERFORMED', 'which procedures were done', 'section:procedure', None, True)
    # 2510 cardiology office visit (Office Notes)
    safe(m_sec, '2510', 'MEDICATIONS', 'whats on his med list', 'section:medications', None, True)
    safe(m_sec, '2510', 'DIAGNOSES', 'what are his diagnoses', 'section:diagnoses', None, True)
    safe(m_decline, '2510', r'allerg', 'does he have any allergies', 'absent-allergy', 'report has no allergy information')
    # 3110 hospice visit (Hospice)
    safe(m_in, '3110', r'Code Status', 'what is his code status and who is his health care proxy', 'social',
         'DNR; brother is the health care proxy')
    safe(m_sec, '3110', 'ALLERGIES', 'allergies?', 'section:allergies')
    safe(m_decline, '3110', r'phone|telephone|\d{3}-\d{4}', "whats the brother's phone number", 'other-person',
         "the brother's contact details are not in the report")
    # 3073 GI letter (Letters)
    safe(m_sec, '3073', 'SOCIAL HISTORY', 'does she smoke', 'section:social history')
    safe(m_sec, '3073', 'RECOMMENDATIONS', 'what did the GI doctor recommend', 'section:recommendations')
    # 3994 dietary consult (Diets and Nutritions)
    safe(m_sec, '3994', 'LDL', 'what was his ldl', 'section:ldl')
    safe(m_sec, '3994', 'PLAN', 'whats the plan', 'section:plan')
    safe(m_decline, '3994', r'statin|lipitor|zocor|crestor|pravachol|simvastatin|atorvastatin|rosuvastatin|pravastatin|niacin|zetia|ezetimibe',
         'which cholesterol medicine is his brother on', 'other-person', "the brother's medication is not named in the report")
    # 4601 foot pain (Chiropractic)
    safe(m_sec, '4601', 'IMPRESSION', 'whats the diagnosis for his foot', 'section:impression')
    safe(m_sec, '4601', 'RADIOGRAPHS', 'what did the xrays show', 'section:radiographs')
    # 1293 barium swallow (Speech - Language)
    safe(m_in, '1293', r'No aspiration was', 'did she aspirate on the swallow study', 'finding', 'no aspiration; penetration with cup sips of thin liquid')
    safe(m_sec, '1293', 'PLAN', 'what are the swallow recommendations', 'section:plan', None, True)
    # 3090 lung biopsy pathology (Lab Medicine - Pathology)
    safe(m_sec, '3090', 'FINAL DIAGNOSIS', 'what is the final pathology diagnosis', 'section:final diagnosis')
    safe(m_in, '3090', r'48-year-old smoker', 'is the patient a smoker', 'social', 'yes, 48-year-old smoker (clinical history)')
    # 1472 EEG (Sleep Medicine)
    safe(m_sec, '1472', 'IMPRESSION', 'what did the eeg show', 'section:impression')
    safe(m_decline, '1472', r'medicat|keppra|dilantin|levetiracetam|phenytoin|depakote|valpro|lamotrigine|carbamazepine|tegretol|lacosamide',
         'what seizure meds is he on', 'absent-medication', 'no medications in the EEG report')



# Planned questions left out to keep the set near the brief's size (~100 demo / ~60 Synthea / ~60
# MTSamples) while keeping every patient/report and every category represented.
DROP = {
    ('synthea', 'his active meds?'),
    ('synthea', 'doretha current medication list'),
    ('synthea', 'what meds was dylan on'),
    ('demo', 'whats his most recent potassium'),
    ('demo', 'did he go to the diabetes classes we referred him to?'),
    ('demo', 'what appointments does he have coming up'),
    ('demo', 'why was charles in the hospital in july'),
    ('demo', 'did he finish pulmonary rehab?'),
    ('demo', 'patricias latest a1c?'),
    ('demo', 'what meds is patricia on right now'),
    ('demo', 'did he miss any appointments?'),
    ('demo', 'next heart doctor visit for him?'),
    ('demo', 'did we get his ortho follow up scheduled?'),
    ('demo', 'which parts of his hip fracture care plan havent been started yet'),
    ('demo', 'what inhalers is she using'),
    ('demo', 'when was she discharged from mercy'),
    ('demo', 'has she been missing her therapy appointments'),
    ('demo', 'when is her next therapy session'),
    ('demo', 'what is going on with his cardiac rehab referral'),
    ('demo', 'current meds for thomas campbell?'),
    ('demo', 'did anyone book his pulmonology appt after discharge'),
    ('demo', 'is carol on metformin or any diabetes pills'),
    ('demo', 'what is his latest BNP'),
    ('demo', 'does she have any appointments coming up'),
    ('demo', "list martha novak's meds please"),
    ('demo', 'last inr for thomas williams?'),
    ('demo', 'samuel king admission dates?'),
    ('demo', 'who is his endocrinologist'),
    ('demo', 'what still needs to be done for denise delgado'),
    ('demo', 'is he on anything for his bones/osteoporosis'),
    ('demo', 'cardiac rehab status for her?'),
    ('demo', 'was home health set up for her'),
    ('demo', 'ruth scott pcp?'),
    ('demo', 'what antidepressant is she on and what dose'),
    ('demo', 'terrence moore hospital stay dates'),
    ('demo', 'roberts last a1c'),
    ('demo', 'her last weight?'),
    ('demo', 'when was ruth roberts discharged'),
    ('demo', 'is olga still on prednisone'),
    ('demo', 'which diuretics is he on'),
    ('demo', 'who is his care cordinator'),
    ('demo', 'when was rosa nguyen in the hospital and what for'),
    ('demo', 'is he on a cholesterol med'),
    ('synthea', 'when was his last flu shot'),
    ('synthea', 'is ellsworth on a blood pressure pill like amlodipine'),
    ('synthea', 'what did he weigh last time'),
    ('synthea', 'what is her BMI'),
    ('synthea', 'devins last weight'),
    ('synthea', 'what care plans are active for dewitt'),
    ('synthea', 'when was his most recent encounter'),
    ('synthea', 'elias marks last blood pressure reading'),
    ('synthea', 'active care plans for him?'),
    ('synthea', 'what care plans does emanuel have going'),
    ('mtsamples', 'what was he admitted with'),
    ('mtsamples', 'any family history we should know about'),
    ('mtsamples', 'what meds is she allergic to'),
    ('mtsamples', 'what was his ejection fraction on the cath'),
    ('mtsamples', 'what meds does he take'),
    ('mtsamples', 'any drug allergies'),
    ('mtsamples', 'is he on any meds at home'),
    ('mtsamples', 'what is the assessment and plan'),
    ('mtsamples', 'what sedation did he get for the endoscopy'),
    ('mtsamples', 'what is her creatinine / kidney function'),
    ('mtsamples', 'what was the assessment'),
    ('mtsamples', 'what is she going home on for pain'),
    ('mtsamples', 'does she drink or smoke'),
    ('mtsamples', 'what kind of anesthesia'),
    ('mtsamples', 'any family history'),
    ('mtsamples', 'how much blood loss'),
    ('mtsamples', 'were there any complications'),
    ('mtsamples', 'how did she do after the injection, was she sent home'),
    ('mtsamples', 'whats the plan for his ears'),
    ('mtsamples', 'where is he going to live after discharge'),
    ('mtsamples', 'what diagnoses did the psychiatrist give him'),
    ('mtsamples', 'what is the assessment'),
    ('mtsamples', 'why was she seen today'),
    ('mtsamples', 'why did she need the cone biopsy'),
    ('mtsamples', 'what anesthesia did he have'),
    ('mtsamples', 'allergies?'),
    ('mtsamples', 'does she smoke'),
    ('mtsamples', 'whats the plan'),
}

# Misspellings as busy staff type them (applied to the final wording; about 1 question in 8).
TYPOS = {
    ('demo', "who is Eugene's primary care doctor?"): 'who is eugenes primary care docter?',
    ('demo', 'whats his latest INR'): 'whats his lastest INR',
    ('demo', 'where are we with the home INR monitor paperwork'): 'where are we with the home INR moniter paperwork',
    ('demo', 'what tasks are overdue for william'): 'what tasks are overdo for william',
    ('demo', 'what were the follow up instructions when john left the hospital after his hip'): 'what were the follow up instructions when john left the hosptial after his hip',
    ('demo', 'why did grace miss her lung appointment'): 'why did grace miss her lung apointment',
    ('demo', 'what is denise torres latest kidney function (creatinine)'): 'what is denise torres latest kidney fuction (creatinine)',
    ('demo', 'did the bus pass application ever get done for her'): 'did the bus pass aplication ever get done for her',
    ('demo', "who all is on martha's care team"): 'who all is on marthas careteam',
    ('demo', 'is his INR recheck overdue?'): 'is his inr rechek overdue',
    ('demo', 'did they change her lasix dose in the hospital'): 'did they change her lasix dose in the hosptial',
    ('demo', 'did teresa make it to her pulmonary follow up'): 'did teresa make it to her pulmonery follow up',
    ('demo', 'is rajesh on a blood thinner after his surgery'): 'is rajesh on a bloodthinner after his surgery',
    ('demo', 'is dennis on coumadin'): 'is dennis on cumadin',
    ('demo', 'does joyce have a pacemaker or defibrillator'): 'does joyce have a pacemaker or defibulator',
    ('synthea', 'has alvin been to the ER? when and what for'): 'has alvin been to the ER? when and waht for',
    ('synthea', 'is ardath still taking lisinopril'): 'is ardath still takeing lisinopril',
    ('synthea', 'when did she get the shingles shot'): 'when did she get the shingels shot',
    ('synthea', 'has he had the HPV vaccine series'): 'has he had the HPV vacine series',
    ('synthea', 'is rosie getting b12 shots'): 'is rosie getting b12shots',
    ('synthea', 'list elliots allergies'): 'list elliots allergys',
    ('mtsamples', 'what were her home meds'): 'what were her hom meds',
    ('mtsamples', 'what did the heart cath show'): 'what did the hart cath show',
    ('mtsamples', 'what did the eeg show'): 'what did the eeg shwo',
    ('mtsamples', 'does she have any drug allergies'): 'does she have any drug alergies',
}


def main():
    build_demo()
    build_synthea()
    build_mtsamples()
    from collections import Counter
    n = Counter((q['world'], q['question']) for q in OUT)
    assert all(n[k] == 1 for k in DROP), [k for k in DROP if n[k] != 1]
    OUT[:] = [q for q in OUT if (q['world'], q['question']) not in DROP]
    n = Counter((q['world'], q['question']) for q in OUT)
    assert all(n[k] == 1 for k in TYPOS), [k for k in TYPOS if n[k] != 1]
    for q in OUT:
        q['question'] = TYPOS.get((q['world'], q['question']), q['question'])
    # stable ids
    for i, q in enumerate(OUT, 1):
        q['id'] = f'{PREFIX}-{i:03d}'
    # sanity: spans must lie inside the note text and every span note must be cited by some fact
    for q in OUT:
        refs = {r for f in q['expected_facts'] for r in f}
        for ref, a, b in q['expected_spans']:
            assert ref in refs, (q['id'], ref)
            assert 0 <= a < b
    with open(os.path.join(HERE, 'questions.jsonl'), 'w') as fh:
        for q in OUT:
            fh.write(json.dumps(q, ensure_ascii=False) + '\n')
    print(f'wrote {len(OUT)} questions', file=sys.stderr)


if __name__ == '__main__':
    main()
