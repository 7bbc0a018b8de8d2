import Foundation
import KMS

/// AWS KMS over the JSON protocol (`TrentService.*`), with botocore's `kms` shapes.
public struct KMSAPI: AWSService {
    public let signingName = "kms"
    public let wireProtocol = WireProtocol.json
    public let signatureErrors = SignatureErrorCodes.json

    private let kms: KMSService

    public init(kms: KMSService) {
        self.kms = kms
    }

    public func trailCall(_ request: AWSRequest) -> TrailCall? {
        (try? JSONTargetCall(request, targetPrefix: "TrentService")).map { .json($0.operation, body: request.body) }
    }

    private struct KeyInput: Decodable { var KeyId: String }

    public func handle(_ request: AWSRequest) async throws -> AWSResponse {
        let call = try JSONTargetCall(request, targetPrefix: "TrentService")
        let caller = request.caller.identity.arn
        struct Metadata: Encodable { var KeyMetadata: KMS.KeyMetadata }
        struct KeyOutput: Encodable { var KeyId: String }
        switch call.operation {
        case "CreateKey":
            struct Input: Decodable { var Description: String?; var Policy: String?; var KeyUsage: String?; var KeySpec: String?; var CustomerMasterKeySpec: String? }
            let input = try call.input(Input.self)
            return try .amzJSON(Metadata(KeyMetadata: try await kms.createKey(description: input.Description, policy: input.Policy,
                                                                              keyUsage: input.KeyUsage, keySpec: input.KeySpec ?? input.CustomerMasterKeySpec,
                                                                              caller: caller)))
        case "DescribeKey":
            return try .amzJSON(Metadata(KeyMetadata: try await kms.describeKey(try call.input(KeyInput.self).KeyId)))
        case "ListKeys":
            struct Input: Decodable { var Limit: Int?; var Marker: String? }
            struct Entry: Encodable { var KeyId: String; var KeyArn: String }
            struct Output: Encodable { var Keys: [Entry]; var NextMarker: String?; var Truncated: Bool }
            let input = try call.input(Input.self)
            let page = try await kms.listKeys(limit: input.Limit, marker: input.Marker)
            return try .amzJSON(Output(Keys: page.keys.map { Entry(KeyId: $0.id, KeyArn: $0.arn) }, NextMarker: page.nextMarker,
                                       Truncated: page.nextMarker != nil))
        case "EnableKey", "DisableKey":
            try await kms.setEnabled(try call.input(KeyInput.self).KeyId, call.operation == "EnableKey")
            return .emptyAmzJSON
        case "ScheduleKeyDeletion":
            struct Input: Decodable { var KeyId: String; var PendingWindowInDays: Int? }
            struct Output: Encodable { var KeyId: String; var DeletionDate: Date; var KeyState: String; var PendingWindowInDays: Int }
            let input = try call.input(Input.self)
            let scheduled = try await kms.scheduleDeletion(input.KeyId, pendingWindowInDays: input.PendingWindowInDays)
            return try .amzJSON(Output(KeyId: scheduled.keyId, DeletionDate: scheduled.deletionDate, KeyState: scheduled.keyState,
                                       PendingWindowInDays: scheduled.pendingWindowInDays))
        case "CancelKeyDeletion":
            return try .amzJSON(KeyOutput(KeyId: try await kms.cancelDeletion(try call.input(KeyInput.self).KeyId)))
        case "EnableKeyRotation":
            struct Input: Decodable { var KeyId: String; var RotationPeriodInDays: Int? }
            let input = try call.input(Input.self)
            try await kms.enableRotation(input.KeyId, periodInDays: input.RotationPeriodInDays)
            return .emptyAmzJSON
        case "DisableKeyRotation":
            try await kms.disableRotation(try call.input(KeyInput.self).KeyId)
            return .emptyAmzJSON
        case "GetKeyRotationStatus":
            struct Output: Encodable { var KeyRotationEnabled: Bool; var KeyId: String; var RotationPeriodInDays: Int?; var NextRotationDate: Date? }
            let status = try await kms.rotationStatus(try call.input(KeyInput.self).KeyId)
            return try .amzJSON(Output(KeyRotationEnabled: status.enabled, KeyId: status.keyId, RotationPeriodInDays: status.period,
                                       NextRotationDate: status.next))
        case "RotateKeyOnDemand":
            return try .amzJSON(KeyOutput(KeyId: try await kms.rotateOnDemand(try call.input(KeyInput.self).KeyId)))
        case "CreateAlias":
            struct Input: Decodable { var AliasName: String; var TargetKeyId: String }
            let input = try call.input(Input.self)
            try await kms.createAlias(input.AliasName, targetKeyId: input.TargetKeyId)
            return .emptyAmzJSON
        case "ListAliases":
            struct Input: Decodable { var KeyId: String?; var Limit: Int?; var Marker: String? }
            struct Output: Encodable { var Aliases: [AliasEntry]; var NextMarker: String?; var Truncated: Bool }
            let input = try call.input(Input.self)
            let page = try await kms.listAliases(keyId: input.KeyId, limit: input.Limit, marker: input.Marker)
            return try .amzJSON(Output(Aliases: page.aliases, NextMarker: page.nextMarker, Truncated: page.nextMarker != nil))
        case "Encrypt":
            struct Input: Decodable { var KeyId: String; var Plaintext: Data; var EncryptionContext: [String: String]? }
            struct Output: Encodable { var CiphertextBlob: Data; var KeyId: String; var EncryptionAlgorithm: String }
            let input = try call.input(Input.self)
            let sealed = try await kms.encrypt(keyId: input.KeyId, plaintext: input.Plaintext, context: input.EncryptionContext ?? [:], caller: caller)
            return try .amzJSON(Output(CiphertextBlob: sealed.ciphertextBlob, KeyId: sealed.keyArn, EncryptionAlgorithm: "SYMMETRIC_DEFAULT"))
        case "Decrypt":
            struct Input: Decodable { var CiphertextBlob: Data; var EncryptionContext: [String: String]?; var KeyId: String? }
            struct Output: Encodable { var KeyId: String; var Plaintext: Data; var EncryptionAlgorithm: String }
            let input = try call.input(Input.self)
            let opened = try await kms.decrypt(input.CiphertextBlob, context: input.EncryptionContext ?? [:], keyId: input.KeyId, caller: caller)
            return try .amzJSON(Output(KeyId: opened.keyArn, Plaintext: opened.plaintext, EncryptionAlgorithm: "SYMMETRIC_DEFAULT"))
        case "GenerateDataKey":
            struct Input: Decodable { var KeyId: String; var KeySpec: String?; var NumberOfBytes: Int?; var EncryptionContext: [String: String]? }
            struct Output: Encodable { var CiphertextBlob: Data; var Plaintext: Data; var KeyId: String }
            let input = try call.input(Input.self)
            let key = try await kms.generateDataKey(keyId: input.KeyId, keySpec: input.KeySpec, numberOfBytes: input.NumberOfBytes,
                                                    context: input.EncryptionContext ?? [:], caller: caller)
            return try .amzJSON(Output(CiphertextBlob: key.encrypted.ciphertextBlob, Plaintext: key.plaintext, KeyId: key.encrypted.keyArn))
        case "ReEncrypt":
            struct Input: Decodable {
                var CiphertextBlob: Data; var SourceEncryptionContext: [String: String]?; var SourceKeyId: String?
                var DestinationKeyId: String; var DestinationEncryptionContext: [String: String]?
            }
            struct Output: Encodable {
                var CiphertextBlob: Data; var SourceKeyId: String; var KeyId: String
                var SourceEncryptionAlgorithm: String; var DestinationEncryptionAlgorithm: String
            }
            let input = try call.input(Input.self)
            let result = try await kms.reEncrypt(input.CiphertextBlob, sourceContext: input.SourceEncryptionContext ?? [:], sourceKeyId: input.SourceKeyId,
                                                 destinationKeyId: input.DestinationKeyId, destinationContext: input.DestinationEncryptionContext ?? [:],
                                                 caller: caller)
            return try .amzJSON(Output(CiphertextBlob: result.encrypted.ciphertextBlob, SourceKeyId: result.sourceArn, KeyId: result.encrypted.keyArn,
                                       SourceEncryptionAlgorithm: "SYMMETRIC_DEFAULT", DestinationEncryptionAlgorithm: "SYMMETRIC_DEFAULT"))
        default:
            throw AWSError(code: "UnknownOperationException", message: "", status: 400)
        }
    }

    public func awsError(for error: any Error) -> AWSError? {
        switch error {
        case let error as AWSError: error
        case let error as KMSError: AWSError(code: error.code, message: error.message, status: 400)
        default: nil
        }
    }
}
