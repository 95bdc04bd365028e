"""Admission control in front of the vendor: at most max_tasks_in_flight slot holders, at most
max_creates_per_second creates, a breaker on vendor 429s/timeouts, and credit checked before anything is uploaded.

State: one DynamoDB item in the Jobs table, pk "ADMISSION", updated with optimistic concurrency, plus the queue
counter "ADMISSION#QUEUE" (store.py says why); read together with one BatchGetItem. AWS calls: BatchGetItem and
UpdateItem on those two keys only. Decisions: pure functions (policy.py, delays.py). Interface: AdmissionControl
(control.py):

    control = AdmissionControl(DynamoAdmissionStore(table), AdmissionSettings.from_env(), time.time, credit_source)
    decision = control.try_admit(AdmissionRequest(job_id, units, ticket_from_message, inputs_sent))
    SendInputs -> upload the inputs (nothing was taken), then try_admit again with inputs_sent=True
    Admitted -> create at once (inputs sent); control.mark_created(job_id) once the task exists, control.vendor_ok()
                a 429/timeout before the task exists: control.vendor_busy(request, retry_after) -> Wait
                the job ends (any way): control.release(job_id, held_seconds)
    Wait     -> re-send the job's message with DelaySeconds = delay_seconds and the ticket; delete this one
                (inputs_ahead: near the front, upload the inputs first)
    Refused  -> error.json from decision.report(); 0 units spent

Credit assumption: the vendor deducts a task's units when the task is created (the emulator does, and the
vendor's create answers CreditInsufficiency); so admitted jobs without a task reserve their units from the cached
balance, and tasks created since the balance was read count as charged until the next read.
"""

from faceswap.admission.control import AdmissionControl
from faceswap.admission.model import (
    BREAKER_OPEN,
    CONTENTION,
    CREDIT_INSUFFICIENT,
    CREDIT_SHORT,
    NO_SLOT,
    NO_TOKEN,
    QUEUE_WAIT_EXCEEDED,
    VENDOR_BUSY,
    AdmissionRequest,
    AdmissionState,
    Admitted,
    Decision,
    Holder,
    Holders,
    QueueTicket,
    Refused,
    SendInputs,
    Wait,
)
from faceswap.admission.settings import AdmissionSettings
from faceswap.admission.store import ADMISSION_PK, AdmissionStore, DynamoAdmissionStore

__all__ = ["ADMISSION_PK", "BREAKER_OPEN", "CONTENTION", "CREDIT_INSUFFICIENT", "CREDIT_SHORT", "NO_SLOT",
           "NO_TOKEN", "QUEUE_WAIT_EXCEEDED", "VENDOR_BUSY", "AdmissionControl", "AdmissionRequest",
           "AdmissionSettings", "AdmissionState", "AdmissionStore", "Admitted", "Decision", "DynamoAdmissionStore",
           "Holder", "Holders", "QueueTicket", "Refused", "SendInputs", "Wait"]
