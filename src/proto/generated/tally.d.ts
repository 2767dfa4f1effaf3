import * as $protobuf from "protobufjs";
import Long = require("long");

export namespace tally {

    namespace v1 {

        interface IDeadLetter extends tally.v1.DeadLetter.$Properties {
        }

        class DeadLetter {
            constructor(properties?: tally.v1.DeadLetter.$Properties);
            $unknowns?: Uint8Array[];
            reason: string;
            sourceTopic: string;
            sourcePartition: number;
            sourceOffset: number;
            key: string;
            value: Uint8Array;
            timestampMs: number;
            stage: string;
            static create(properties: tally.v1.DeadLetter.$Shape): tally.v1.DeadLetter & tally.v1.DeadLetter.$Shape;
            static create(properties?: tally.v1.DeadLetter.$Properties): tally.v1.DeadLetter;
            static encode(message: tally.v1.DeadLetter.$Properties, writer?: $protobuf.Writer): $protobuf.Writer;
            static decode(reader: ($protobuf.Reader|Uint8Array), length?: number): tally.v1.DeadLetter & tally.v1.DeadLetter.$Shape;
            static verify(message: { [k: string]: any }): (string|null);
            static fromObject(object: { [k: string]: any }): tally.v1.DeadLetter;
            static toObject(message: tally.v1.DeadLetter, options?: $protobuf.IConversionOptions): { [k: string]: any };
            toJSON(): { [k: string]: any };
        }

        namespace DeadLetter {
            interface $Properties {
                reason?: string;
                sourceTopic?: string;
                sourcePartition?: number;
                sourceOffset?: number;
                key?: string;
                value?: Uint8Array;
                timestampMs?: number;
                stage?: string;
                $unknowns?: Uint8Array[];
            }
            type $Shape = tally.v1.DeadLetter.$Properties;
        }

        enum EventKind {
            EVENT_KIND_UNSPECIFIED = 0,
            EVENT_KIND_STATE = 1,
            EVENT_KIND_CRASH = 2,
            EVENT_KIND_RESTART = 3,
            EVENT_KIND_SCALE = 4,
            EVENT_KIND_RELEASE = 5,
            EVENT_KIND_DEPLOY = 6,
            EVENT_KIND_CONFIG = 7
        }

        interface IPlatformEvent extends tally.v1.PlatformEvent.$Properties {
        }

        class PlatformEvent {
            constructor(properties?: tally.v1.PlatformEvent.$Properties);
            $unknowns?: Uint8Array[];
            origin: tally.v1.Origin;
            kind: tally.v1.EventKind;
            process: string;
            description: string;
            actor: string;
            next: tally.v1.PlatformEvent[];
            static create(properties: tally.v1.PlatformEvent.$Shape): tally.v1.PlatformEvent & tally.v1.PlatformEvent.$Shape;
            static create(properties?: tally.v1.PlatformEvent.$Properties): tally.v1.PlatformEvent;
            static encode(message: tally.v1.PlatformEvent.$Properties, writer?: $protobuf.Writer): $protobuf.Writer;
            static decode(reader: ($protobuf.Reader|Uint8Array), length?: number): tally.v1.PlatformEvent & tally.v1.PlatformEvent.$Shape;
            static verify(message: { [k: string]: any }): (string|null);
            static fromObject(object: { [k: string]: any }): tally.v1.PlatformEvent;
            static toObject(message: tally.v1.PlatformEvent, options?: $protobuf.IConversionOptions): { [k: string]: any };
            toJSON(): { [k: string]: any };
        }

        namespace PlatformEvent {
            interface $Properties {
                origin?: tally.v1.Origin.$Properties;
                kind?: tally.v1.EventKind;
                process?: string;
                description?: string;
                actor?: string;
                next?: tally.v1.PlatformEvent.$Properties[];
                $unknowns?: Uint8Array[];
            }
            type $Shape = tally.v1.PlatformEvent.$Properties;
        }

        interface IOrigin extends tally.v1.Origin.$Properties {
        }

        class Origin {
            constructor(properties?: tally.v1.Origin.$Properties);
            $unknowns?: Uint8Array[];
            owner: string;
            processType: string;
            dyno: string;
            timeUs: number;
            drain: string;
            frameId: string;
            delivery: string;
            static create(properties: tally.v1.Origin.$Shape): tally.v1.Origin & tally.v1.Origin.$Shape;
            static create(properties?: tally.v1.Origin.$Properties): tally.v1.Origin;
            static encode(message: tally.v1.Origin.$Properties, writer?: $protobuf.Writer): $protobuf.Writer;
            static decode(reader: ($protobuf.Reader|Uint8Array), length?: number): tally.v1.Origin & tally.v1.Origin.$Shape;
            static verify(message: { [k: string]: any }): (string|null);
            static fromObject(object: { [k: string]: any }): tally.v1.Origin;
            static toObject(message: tally.v1.Origin, options?: $protobuf.IConversionOptions): { [k: string]: any };
            toJSON(): { [k: string]: any };
        }

        namespace Origin {
            interface $Properties {
                owner?: string;
                processType?: string;
                dyno?: string;
                timeUs?: number;
                drain?: string;
                frameId?: string;
                delivery?: string;
                $unknowns?: Uint8Array[];
            }
            type $Shape = tally.v1.Origin.$Properties;
        }

        interface IDynoMemory extends tally.v1.DynoMemory.$Properties {
        }

        class DynoMemory {
            constructor(properties?: tally.v1.DynoMemory.$Properties);
            $unknowns?: Uint8Array[];
            origin: tally.v1.Origin;
            memoryTotal: (number|null);
            memoryRss: (number|null);
            memoryCache: (number|null);
            memorySwap: (number|null);
            memoryPgpgin: (number|null);
            memoryPgpgout: (number|null);
            memoryQuota: (number|null);
            next: tally.v1.DynoMemory[];
            static create(properties: tally.v1.DynoMemory.$Shape): tally.v1.DynoMemory & tally.v1.DynoMemory.$Shape;
            static create(properties?: tally.v1.DynoMemory.$Properties): tally.v1.DynoMemory;
            static encode(message: tally.v1.DynoMemory.$Properties, writer?: $protobuf.Writer): $protobuf.Writer;
            static decode(reader: ($protobuf.Reader|Uint8Array), length?: number): tally.v1.DynoMemory & tally.v1.DynoMemory.$Shape;
            static verify(message: { [k: string]: any }): (string|null);
            static fromObject(object: { [k: string]: any }): tally.v1.DynoMemory;
            static toObject(message: tally.v1.DynoMemory, options?: $protobuf.IConversionOptions): { [k: string]: any };
            toJSON(): { [k: string]: any };
        }

        namespace DynoMemory {
            interface $Properties {
                origin?: tally.v1.Origin.$Properties;
                memoryTotal?: (number|null);
                memoryRss?: (number|null);
                memoryCache?: (number|null);
                memorySwap?: (number|null);
                memoryPgpgin?: (number|null);
                memoryPgpgout?: (number|null);
                memoryQuota?: (number|null);
                next?: tally.v1.DynoMemory.$Properties[];
                $unknowns?: Uint8Array[];
            }
            type $Shape = tally.v1.DynoMemory.$Properties;
        }

        interface IDynoLoad extends tally.v1.DynoLoad.$Properties {
        }

        class DynoLoad {
            constructor(properties?: tally.v1.DynoLoad.$Properties);
            $unknowns?: Uint8Array[];
            origin: tally.v1.Origin;
            loadAvg_1m: (number|null);
            loadAvg_5m: (number|null);
            loadAvg_15m: (number|null);
            next: tally.v1.DynoLoad[];
            static create(properties: tally.v1.DynoLoad.$Shape): tally.v1.DynoLoad & tally.v1.DynoLoad.$Shape;
            static create(properties?: tally.v1.DynoLoad.$Properties): tally.v1.DynoLoad;
            static encode(message: tally.v1.DynoLoad.$Properties, writer?: $protobuf.Writer): $protobuf.Writer;
            static decode(reader: ($protobuf.Reader|Uint8Array), length?: number): tally.v1.DynoLoad & tally.v1.DynoLoad.$Shape;
            static verify(message: { [k: string]: any }): (string|null);
            static fromObject(object: { [k: string]: any }): tally.v1.DynoLoad;
            static toObject(message: tally.v1.DynoLoad, options?: $protobuf.IConversionOptions): { [k: string]: any };
            toJSON(): { [k: string]: any };
        }

        namespace DynoLoad {
            interface $Properties {
                origin?: tally.v1.Origin.$Properties;
                loadAvg_1m?: (number|null);
                loadAvg_5m?: (number|null);
                loadAvg_15m?: (number|null);
                next?: tally.v1.DynoLoad.$Properties[];
                $unknowns?: Uint8Array[];
            }
            type $Shape = tally.v1.DynoLoad.$Properties;
        }

        interface IRouterRequest extends tally.v1.RouterRequest.$Properties {
        }

        class RouterRequest {
            constructor(properties?: tally.v1.RouterRequest.$Properties);
            $unknowns?: Uint8Array[];
            origin: tally.v1.Origin;
            at: string;
            method: string;
            path: string;
            host: string;
            requestId: string;
            fwd: string;
            status: number;
            connectMs: (number|null);
            serviceMs: (number|null);
            bytes: (number|null);
            protocol: string;
            code: string;
            desc: string;
            next: tally.v1.RouterRequest[];
            static create(properties: tally.v1.RouterRequest.$Shape): tally.v1.RouterRequest & tally.v1.RouterRequest.$Shape;
            static create(properties?: tally.v1.RouterRequest.$Properties): tally.v1.RouterRequest;
            static encode(message: tally.v1.RouterRequest.$Properties, writer?: $protobuf.Writer): $protobuf.Writer;
            static decode(reader: ($protobuf.Reader|Uint8Array), length?: number): tally.v1.RouterRequest & tally.v1.RouterRequest.$Shape;
            static verify(message: { [k: string]: any }): (string|null);
            static fromObject(object: { [k: string]: any }): tally.v1.RouterRequest;
            static toObject(message: tally.v1.RouterRequest, options?: $protobuf.IConversionOptions): { [k: string]: any };
            toJSON(): { [k: string]: any };
        }

        namespace RouterRequest {
            interface $Properties {
                origin?: tally.v1.Origin.$Properties;
                at?: string;
                method?: string;
                path?: string;
                host?: string;
                requestId?: string;
                fwd?: string;
                status?: number;
                connectMs?: (number|null);
                serviceMs?: (number|null);
                bytes?: (number|null);
                protocol?: string;
                code?: string;
                desc?: string;
                next?: tally.v1.RouterRequest.$Properties[];
                $unknowns?: Uint8Array[];
            }
            type $Shape = tally.v1.RouterRequest.$Properties;
        }

        interface IErrorCode extends tally.v1.ErrorCode.$Properties {
        }

        class ErrorCode {
            constructor(properties?: tally.v1.ErrorCode.$Properties);
            $unknowns?: Uint8Array[];
            origin: tally.v1.Origin;
            code: string;
            count: number;
            description: string;
            next: tally.v1.ErrorCode[];
            static create(properties: tally.v1.ErrorCode.$Shape): tally.v1.ErrorCode & tally.v1.ErrorCode.$Shape;
            static create(properties?: tally.v1.ErrorCode.$Properties): tally.v1.ErrorCode;
            static encode(message: tally.v1.ErrorCode.$Properties, writer?: $protobuf.Writer): $protobuf.Writer;
            static decode(reader: ($protobuf.Reader|Uint8Array), length?: number): tally.v1.ErrorCode & tally.v1.ErrorCode.$Shape;
            static verify(message: { [k: string]: any }): (string|null);
            static fromObject(object: { [k: string]: any }): tally.v1.ErrorCode;
            static toObject(message: tally.v1.ErrorCode, options?: $protobuf.IConversionOptions): { [k: string]: any };
            toJSON(): { [k: string]: any };
        }

        namespace ErrorCode {
            interface $Properties {
                origin?: tally.v1.Origin.$Properties;
                code?: string;
                count?: number;
                description?: string;
                next?: tally.v1.ErrorCode.$Properties[];
                $unknowns?: Uint8Array[];
            }
            type $Shape = tally.v1.ErrorCode.$Properties;
        }

        enum Period {
            PERIOD_UNSPECIFIED = 0,
            PERIOD_1M = 1,
            PERIOD_15M = 2
        }

        interface ISummary extends tally.v1.Summary.$Properties {
        }

        class Summary {
            constructor(properties?: tally.v1.Summary.$Properties);
            $unknowns?: Uint8Array[];
            owner: string;
            processType: string;
            metric: string;
            label: string;
            period: tally.v1.Period;
            startMs: number;
            count: number;
            sum: number;
            sumsq: number;
            min: number;
            max: number;
            sketch: Uint8Array;
            version: number;
            static create(properties: tally.v1.Summary.$Shape): tally.v1.Summary & tally.v1.Summary.$Shape;
            static create(properties?: tally.v1.Summary.$Properties): tally.v1.Summary;
            static encode(message: tally.v1.Summary.$Properties, writer?: $protobuf.Writer): $protobuf.Writer;
            static decode(reader: ($protobuf.Reader|Uint8Array), length?: number): tally.v1.Summary & tally.v1.Summary.$Shape;
            static verify(message: { [k: string]: any }): (string|null);
            static fromObject(object: { [k: string]: any }): tally.v1.Summary;
            static toObject(message: tally.v1.Summary, options?: $protobuf.IConversionOptions): { [k: string]: any };
            toJSON(): { [k: string]: any };
        }

        namespace Summary {
            interface $Properties {
                owner?: string;
                processType?: string;
                metric?: string;
                label?: string;
                period?: tally.v1.Period;
                startMs?: number;
                count?: number;
                sum?: number;
                sumsq?: number;
                min?: number;
                max?: number;
                sketch?: Uint8Array;
                version?: number;
                $unknowns?: Uint8Array[];
            }
            type $Shape = tally.v1.Summary.$Properties;
        }
    }
}
