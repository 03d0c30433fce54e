// Tuning: diagnosis (Diagnosis/), placement plans with apply and rollback (Placement/, Plans/)
// and the paused-guest guardian (Guardian/), over the other modules. Rules and planners are
// pure functions over Sendable values; gathering live input is separate.
import VirtCore
