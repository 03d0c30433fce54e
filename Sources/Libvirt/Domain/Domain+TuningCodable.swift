import VirtCore

// Journals and plans keep scheduler and memory parameters: the typed fields are encoded
// (`raw`, the driver's full report, is not: it decodes empty).

extension SchedulerParameters: Codable {
    private enum CodingKeys: String, CodingKey {
        case cpuShares, vcpuPeriod, vcpuQuota, emulatorPeriod, emulatorQuota, globalPeriod, globalQuota, iothreadPeriod, iothreadQuota
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            cpuShares: try c.decodeIfPresent(UInt64.self, forKey: .cpuShares),
            vcpuPeriod: try c.decodeIfPresent(Duration.self, forKey: .vcpuPeriod),
            vcpuQuota: try c.decodeIfPresent(Limit<Duration>.self, forKey: .vcpuQuota),
            emulatorPeriod: try c.decodeIfPresent(Duration.self, forKey: .emulatorPeriod),
            emulatorQuota: try c.decodeIfPresent(Limit<Duration>.self, forKey: .emulatorQuota),
            globalPeriod: try c.decodeIfPresent(Duration.self, forKey: .globalPeriod),
            globalQuota: try c.decodeIfPresent(Limit<Duration>.self, forKey: .globalQuota),
            iothreadPeriod: try c.decodeIfPresent(Duration.self, forKey: .iothreadPeriod),
            iothreadQuota: try c.decodeIfPresent(Limit<Duration>.self, forKey: .iothreadQuota))
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encodeIfPresent(cpuShares, forKey: .cpuShares)
        try c.encodeIfPresent(vcpuPeriod, forKey: .vcpuPeriod)
        try c.encodeIfPresent(vcpuQuota, forKey: .vcpuQuota)
        try c.encodeIfPresent(emulatorPeriod, forKey: .emulatorPeriod)
        try c.encodeIfPresent(emulatorQuota, forKey: .emulatorQuota)
        try c.encodeIfPresent(globalPeriod, forKey: .globalPeriod)
        try c.encodeIfPresent(globalQuota, forKey: .globalQuota)
        try c.encodeIfPresent(iothreadPeriod, forKey: .iothreadPeriod)
        try c.encodeIfPresent(iothreadQuota, forKey: .iothreadQuota)
    }
}

extension MemoryParameters: Codable {
    private enum CodingKeys: String, CodingKey { case hardLimit, softLimit, swapHardLimit, minGuarantee }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(hardLimit: try c.decodeIfPresent(Limit<MemorySize>.self, forKey: .hardLimit),
                  softLimit: try c.decodeIfPresent(Limit<MemorySize>.self, forKey: .softLimit),
                  swapHardLimit: try c.decodeIfPresent(Limit<MemorySize>.self, forKey: .swapHardLimit),
                  minGuarantee: try c.decodeIfPresent(Limit<MemorySize>.self, forKey: .minGuarantee))
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encodeIfPresent(hardLimit, forKey: .hardLimit)
        try c.encodeIfPresent(softLimit, forKey: .softLimit)
        try c.encodeIfPresent(swapHardLimit, forKey: .swapHardLimit)
        try c.encodeIfPresent(minGuarantee, forKey: .minGuarantee)
    }
}
