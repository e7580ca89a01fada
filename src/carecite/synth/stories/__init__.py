"""Patient storylines: CHF admission → discharge → follow-ups, diabetes visits, COPD with home
oxygen, AFib on warfarin, hip fracture, plus secondary threads (sleep apnea, CKD, behavioral health
labelled PSY, substance use labelled ETH).

A storyline decides its branch first (e.g. the cardiology follow-up was kept, missed, cancelled,
is still upcoming, or was never scheduled) and then writes every record and note from that one
decision, so a telephone note saying "missed the appointment on 10/3" sits beside an Appointment
with status ``noshow`` on 10/3 and an open, overdue Task.

One module per storyline over the shared builders in ``builders.py``.
"""

from carecite.synth.stories.afib import afib
from carecite.synth.stories.behavioral_health import behavioral_health
from carecite.synth.stories.builders import Ctx, baseline
from carecite.synth.stories.copd import copd
from carecite.synth.stories.diabetes import diabetes
from carecite.synth.stories.heart_failure import heart_failure
from carecite.synth.stories.hip_fracture import hip_fracture
from carecite.synth.stories.sleep_apnea import sleep_apnea
from carecite.synth.stories.substance_use import substance_use

__all__ = [
    "Ctx",
    "afib",
    "baseline",
    "behavioral_health",
    "copd",
    "diabetes",
    "heart_failure",
    "hip_fracture",
    "sleep_apnea",
    "substance_use",
]
