import VirtCore
import Libvirt
import DomainXML
import HostProbe
import CgroupControl

/// Diagnosis and reconfiguration planning over the other modules.
///
/// Not built yet: its own issue will bring host/guest diagnoses and pinning plans.
/// Until then the module only fixes its place in the dependency graph.
public enum Tuning {}
