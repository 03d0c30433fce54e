// Placeholder until this module's issue lands; replaced by the real API.
import VirtCore
