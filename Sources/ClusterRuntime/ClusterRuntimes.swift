import Auth
import EKS
import Foundation
import KubeAPI
import Logging

/// The control planes of every cluster in the region, each under
/// `<data dir>/clusters/<name>/`.
public actor ClusterRuntimes: ControlPlaneHost {
    private let directory: URL
    private let historyRetention: TimeInterval
    private let logger: Logger
    /// This replica's name in leader elections (stable across restarts of the same replica).
    private let identity: String
    private let tokenVerifier: EKSTokenVerifier?
    /// The keys of the clusters' OIDC identity providers.
    private let oidcKeys: OIDCKeys?
    /// Where Fargate pods' addresses come from; nil runs no Fargate scheduler.
    private let fargateAddressing: FargateAddressing?
    private let instanceDNSNames: IAMAuthenticator.InstanceDNSNames?
    private let logging: ControlPlaneLogging
    private let envelopeKeys: EnvelopeKeys?
    /// Where the clusters' objects are kept (their logs and keys stay in their directories).
    private let storage: ClusterStorage
    /// The address this replica's API servers listen on (each at its cluster's port); nil: the endpoint's host.
    private let bindHost: String?
    private var running: [String: ClusterControlPlane] = [:]

    /// - Parameters:
    ///   - tokenVerifier: checks the `aws eks get-token` tokens each cluster's API server accepts.
    ///   - instanceDNSNames: the region's EC2 instances' private DNS names, for node roles' `{{EC2PrivateDNSName}}`.
    public init(directory: URL, storage: ClusterStorage = .sqlite, bindHost: String? = nil, historyRetention: TimeInterval = 300, identity: String = ProcessInfo.processInfo.hostName,
                tokenVerifier: EKSTokenVerifier? = nil, oidcKeys: OIDCKeys? = nil, fargateAddressing: FargateAddressing? = nil, instanceDNSNames: IAMAuthenticator.InstanceDNSNames? = nil,
                logging: ControlPlaneLogging = ControlPlaneLogging(), envelopeKeys: EnvelopeKeys? = nil, logger: Logger) {
        self.directory = directory
        self.storage = storage
        self.bindHost = bindHost
        self.logging = logging
        self.envelopeKeys = envelopeKeys
        self.tokenVerifier = tokenVerifier
        self.oidcKeys = oidcKeys
        self.fargateAddressing = fargateAddressing
        self.instanceDNSNames = instanceDNSNames
        self.identity = identity
        self.historyRetention = historyRetention
        self.logger = logger
    }

    func clusterDirectory(_ name: String) -> URL {
        directory.appendingPathComponent(name, isDirectory: true)
    }

    public func ensureRunning(_ spec: ControlPlaneSpec) async throws {
        if let current = running[spec.clusterName] {
            if current.spec == spec { return }
            if current.spec.sameControlPlane(as: spec) {
                // Only the nodes or the access changed: the node agents and the authenticator follow, the control plane keeps running.
                if current.spec.nodes != spec.nodes { current.update(nodes: spec.nodes) }
                if current.spec.access != spec.access { current.update(access: spec.access) }
                if current.spec.enabledLogTypes != spec.enabledLogTypes { current.update(logTypes: spec.enabledLogTypes) }
                if current.spec.fargateProfiles != spec.fargateProfiles { current.update(fargateProfiles: spec.fargateProfiles) }
                return
            }
            running[spec.clusterName] = nil
            await current.stop()
        }
        let controlPlane: ClusterControlPlane
        do {
            controlPlane = try await ClusterControlPlane(spec: spec, directory: clusterDirectory(spec.clusterName), storage: storage,
                                                         bindHost: bindHost ?? spec.host,
                                                         historyRetention: historyRetention, identity: identity,
                                                         tokenVerifier: tokenVerifier, oidcKeys: oidcKeys, fargateAddressing: fargateAddressing,
                                                         instanceDNSNames: instanceDNSNames,
                                                         logging: logging,
                                                         envelopeKeys: envelopeKeys, logger: logger)
        } catch {
            logger.error("API server of cluster \(spec.clusterName) did not start", metadata: ["error": "\(error)"])
            throw error
        }
        running[spec.clusterName] = controlPlane
        logger.notice("API server of cluster \(spec.clusterName) listening on \(spec.endpoint)")
    }

    /// The claims of a service-account token one of the running clusters signed, as its published JWKS verifies
    /// it (what STS checks for `AssumeRoleWithWebIdentity`); nil for any other token.
    public func webIdentityClaims(_ token: String) -> WebIdentityClaims? {
        for controlPlane in running.values {
            guard let issuer = controlPlane.apiServer.registry.serviceAccountIssuer, let claims = issuer.verifiedClaims(token),
                  claims["iss"]?.string == issuer.issuer, let subject = claims["sub"]?.string, let expires = claims["exp"]?.int else { continue }
            let audiences = claims["aud"]?.array?.compactMap(\.string) ?? claims["aud"]?.string.map { [$0] } ?? []
            return WebIdentityClaims(issuer: issuer.issuer, subject: subject, audiences: audiences,
                                     expiresAt: Date(timeIntervalSince1970: TimeInterval(expires)))
        }
        return nil
    }

    /// The service account (as its Kubernetes user) of a token that the cluster signed for `audience`.
    public func serviceAccount(clusterName: String, token: String, audience: String) async -> UserInfo? {
        await running[clusterName]?.serviceAccountTokens.serviceAccount(of: token, audience: audience)
    }

    public func updateAccess(clusterName: String, _ access: ClusterAccess) {
        running[clusterName]?.update(access: access)
    }

    public func applyAddon(clusterName: String, _ addon: AddonInstallation) async -> AddonApplyOutcome {
        guard let controlPlane = running[clusterName] else {
            return .failed(AddonIssue(code: .ClusterUnreachable, message: "The cluster's API server is not running."))
        }
        return await controlPlane.addons.apply(addon)
    }

    public func applyCapability(clusterName: String, type: CapabilityType, namespace: String?) async -> AddonApplyOutcome {
        guard let controlPlane = running[clusterName] else {
            return .failed(AddonIssue(code: .ClusterUnreachable, message: "The cluster's API server is not running."))
        }
        return await controlPlane.addons.apply(type, namespace: namespace)
    }

    public func deprecatedAPICalls(clusterName: String, since: Date) async -> [DeprecatedAPICalls] {
        guard let controlPlane = running[clusterName] else { return [] }
        return DeprecatedAPIUsage.calls(inAuditLines: controlPlane.logs.audit.lines(), since: since)
    }

    public func removeAddon(clusterName: String, _ addon: AddonInstallation, preserve: Bool) async {
        await running[clusterName]?.addons.remove(addon, preserve: preserve)
    }

    public func addonHealth(clusterName: String, _ addon: AddonInstallation) async -> [AddonIssue] {
        guard let controlPlane = running[clusterName] else {
            return [AddonIssue(code: .ClusterUnreachable, message: "The cluster's API server is not running.")]
        }
        return await controlPlane.addons.health(addon)
    }

    public func remove(clusterName: String) async {
        if let controlPlane = running.removeValue(forKey: clusterName) { await controlPlane.stop() }
        await storage.remove(clusterName: clusterName, directory: clusterDirectory(clusterName))
        try? FileManager.default.removeItem(at: clusterDirectory(clusterName))
    }

    public func keepOnly(clusterNames: Set<String>) async {
        for (name, controlPlane) in running where !clusterNames.contains(name) {
            running[name] = nil
            await controlPlane.stop()
            logger.notice("API server of cluster \(name) stopped: the cluster no longer runs")
        }
    }

    /// Stops every control plane (Skiff is shutting down); their data stays.
    public func stopAll() async {
        for controlPlane in running.values { await controlPlane.stop() }
        running.removeAll()
        await oidcKeys?.shutdown()
    }
}
