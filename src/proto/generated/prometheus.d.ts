import * as $protobuf from "protobufjs";
import Long = require("long");

export namespace prometheus {

    interface IWriteRequest extends prometheus.WriteRequest.$Properties {
    }

    class WriteRequest {
        constructor(properties?: prometheus.WriteRequest.$Properties);
        $unknowns?: Uint8Array[];
        timeseries: prometheus.TimeSeries[];
        metadata: prometheus.MetricMetadata[];
        static create(properties: prometheus.WriteRequest.$Shape): prometheus.WriteRequest & prometheus.WriteRequest.$Shape;
        static create(properties?: prometheus.WriteRequest.$Properties): prometheus.WriteRequest;
        static encode(message: prometheus.WriteRequest.$Properties, writer?: $protobuf.Writer): $protobuf.Writer;
        static decode(reader: ($protobuf.Reader|Uint8Array), length?: number): prometheus.WriteRequest & prometheus.WriteRequest.$Shape;
        static verify(message: { [k: string]: any }): (string|null);
        static fromObject(object: { [k: string]: any }): prometheus.WriteRequest;
        static toObject(message: prometheus.WriteRequest, options?: $protobuf.IConversionOptions): { [k: string]: any };
        toJSON(): { [k: string]: any };
    }

    namespace WriteRequest {
        interface $Properties {
            timeseries?: prometheus.TimeSeries.$Properties[];
            metadata?: prometheus.MetricMetadata.$Properties[];
            $unknowns?: Uint8Array[];
        }
        type $Shape = {
          timeseries?: prometheus.TimeSeries.$Shape[];
          metadata?: prometheus.MetricMetadata.$Shape[];
          $unknowns?: Uint8Array[];
        };
    }

    interface IReadRequest extends prometheus.ReadRequest.$Properties {
    }

    class ReadRequest {
        constructor(properties?: prometheus.ReadRequest.$Properties);
        $unknowns?: Uint8Array[];
        queries: prometheus.Query[];
        acceptedResponseTypes: prometheus.ReadRequest.ResponseType[];
        static create(properties: prometheus.ReadRequest.$Shape): prometheus.ReadRequest & prometheus.ReadRequest.$Shape;
        static create(properties?: prometheus.ReadRequest.$Properties): prometheus.ReadRequest;
        static encode(message: prometheus.ReadRequest.$Properties, writer?: $protobuf.Writer): $protobuf.Writer;
        static decode(reader: ($protobuf.Reader|Uint8Array), length?: number): prometheus.ReadRequest & prometheus.ReadRequest.$Shape;
        static verify(message: { [k: string]: any }): (string|null);
        static fromObject(object: { [k: string]: any }): prometheus.ReadRequest;
        static toObject(message: prometheus.ReadRequest, options?: $protobuf.IConversionOptions): { [k: string]: any };
        toJSON(): { [k: string]: any };
    }

    namespace ReadRequest {
        interface $Properties {
            queries?: prometheus.Query.$Properties[];
            acceptedResponseTypes?: prometheus.ReadRequest.ResponseType[];
            $unknowns?: Uint8Array[];
        }
        type $Shape = prometheus.ReadRequest.$Properties;

        enum ResponseType {
            SAMPLES = 0,
            STREAMED_XOR_CHUNKS = 1
        }
    }

    interface IReadResponse extends prometheus.ReadResponse.$Properties {
    }

    class ReadResponse {
        constructor(properties?: prometheus.ReadResponse.$Properties);
        $unknowns?: Uint8Array[];
        results: prometheus.QueryResult[];
        static create(properties: prometheus.ReadResponse.$Shape): prometheus.ReadResponse & prometheus.ReadResponse.$Shape;
        static create(properties?: prometheus.ReadResponse.$Properties): prometheus.ReadResponse;
        static encode(message: prometheus.ReadResponse.$Properties, writer?: $protobuf.Writer): $protobuf.Writer;
        static decode(reader: ($protobuf.Reader|Uint8Array), length?: number): prometheus.ReadResponse & prometheus.ReadResponse.$Shape;
        static verify(message: { [k: string]: any }): (string|null);
        static fromObject(object: { [k: string]: any }): prometheus.ReadResponse;
        static toObject(message: prometheus.ReadResponse, options?: $protobuf.IConversionOptions): { [k: string]: any };
        toJSON(): { [k: string]: any };
    }

    namespace ReadResponse {
        interface $Properties {
            results?: prometheus.QueryResult.$Properties[];
            $unknowns?: Uint8Array[];
        }
        type $Shape = {
          results?: prometheus.QueryResult.$Shape[];
          $unknowns?: Uint8Array[];
        };
    }

    interface IQuery extends prometheus.Query.$Properties {
    }

    class Query {
        constructor(properties?: prometheus.Query.$Properties);
        $unknowns?: Uint8Array[];
        startTimestampMs: number;
        endTimestampMs: number;
        matchers: prometheus.LabelMatcher[];
        hints: prometheus.ReadHints;
        static create(properties: prometheus.Query.$Shape): prometheus.Query & prometheus.Query.$Shape;
        static create(properties?: prometheus.Query.$Properties): prometheus.Query;
        static encode(message: prometheus.Query.$Properties, writer?: $protobuf.Writer): $protobuf.Writer;
        static decode(reader: ($protobuf.Reader|Uint8Array), length?: number): prometheus.Query & prometheus.Query.$Shape;
        static verify(message: { [k: string]: any }): (string|null);
        static fromObject(object: { [k: string]: any }): prometheus.Query;
        static toObject(message: prometheus.Query, options?: $protobuf.IConversionOptions): { [k: string]: any };
        toJSON(): { [k: string]: any };
    }

    namespace Query {
        interface $Properties {
            startTimestampMs?: number;
            endTimestampMs?: number;
            matchers?: prometheus.LabelMatcher.$Properties[];
            hints?: prometheus.ReadHints.$Properties;
            $unknowns?: Uint8Array[];
        }
        type $Shape = prometheus.Query.$Properties;
    }

    interface IQueryResult extends prometheus.QueryResult.$Properties {
    }

    class QueryResult {
        constructor(properties?: prometheus.QueryResult.$Properties);
        $unknowns?: Uint8Array[];
        timeseries: prometheus.TimeSeries[];
        static create(properties: prometheus.QueryResult.$Shape): prometheus.QueryResult & prometheus.QueryResult.$Shape;
        static create(properties?: prometheus.QueryResult.$Properties): prometheus.QueryResult;
        static encode(message: prometheus.QueryResult.$Properties, writer?: $protobuf.Writer): $protobuf.Writer;
        static decode(reader: ($protobuf.Reader|Uint8Array), length?: number): prometheus.QueryResult & prometheus.QueryResult.$Shape;
        static verify(message: { [k: string]: any }): (string|null);
        static fromObject(object: { [k: string]: any }): prometheus.QueryResult;
        static toObject(message: prometheus.QueryResult, options?: $protobuf.IConversionOptions): { [k: string]: any };
        toJSON(): { [k: string]: any };
    }

    namespace QueryResult {
        interface $Properties {
            timeseries?: prometheus.TimeSeries.$Properties[];
            $unknowns?: Uint8Array[];
        }
        type $Shape = {
          timeseries?: prometheus.TimeSeries.$Shape[];
          $unknowns?: Uint8Array[];
        };
    }

    interface IChunkedReadResponse extends prometheus.ChunkedReadResponse.$Properties {
    }

    class ChunkedReadResponse {
        constructor(properties?: prometheus.ChunkedReadResponse.$Properties);
        $unknowns?: Uint8Array[];
        chunkedSeries: prometheus.ChunkedSeries[];
        queryIndex: number;
        static create(properties: prometheus.ChunkedReadResponse.$Shape): prometheus.ChunkedReadResponse & prometheus.ChunkedReadResponse.$Shape;
        static create(properties?: prometheus.ChunkedReadResponse.$Properties): prometheus.ChunkedReadResponse;
        static encode(message: prometheus.ChunkedReadResponse.$Properties, writer?: $protobuf.Writer): $protobuf.Writer;
        static decode(reader: ($protobuf.Reader|Uint8Array), length?: number): prometheus.ChunkedReadResponse & prometheus.ChunkedReadResponse.$Shape;
        static verify(message: { [k: string]: any }): (string|null);
        static fromObject(object: { [k: string]: any }): prometheus.ChunkedReadResponse;
        static toObject(message: prometheus.ChunkedReadResponse, options?: $protobuf.IConversionOptions): { [k: string]: any };
        toJSON(): { [k: string]: any };
    }

    namespace ChunkedReadResponse {
        interface $Properties {
            chunkedSeries?: prometheus.ChunkedSeries.$Properties[];
            queryIndex?: number;
            $unknowns?: Uint8Array[];
        }
        type $Shape = prometheus.ChunkedReadResponse.$Properties;
    }

    interface IMetricMetadata extends prometheus.MetricMetadata.$Properties {
    }

    class MetricMetadata {
        constructor(properties?: prometheus.MetricMetadata.$Properties);
        $unknowns?: Uint8Array[];
        type: prometheus.MetricMetadata.MetricType;
        metricFamilyName: string;
        help: string;
        unit: string;
        static create(properties: prometheus.MetricMetadata.$Shape): prometheus.MetricMetadata & prometheus.MetricMetadata.$Shape;
        static create(properties?: prometheus.MetricMetadata.$Properties): prometheus.MetricMetadata;
        static encode(message: prometheus.MetricMetadata.$Properties, writer?: $protobuf.Writer): $protobuf.Writer;
        static decode(reader: ($protobuf.Reader|Uint8Array), length?: number): prometheus.MetricMetadata & prometheus.MetricMetadata.$Shape;
        static verify(message: { [k: string]: any }): (string|null);
        static fromObject(object: { [k: string]: any }): prometheus.MetricMetadata;
        static toObject(message: prometheus.MetricMetadata, options?: $protobuf.IConversionOptions): { [k: string]: any };
        toJSON(): { [k: string]: any };
    }

    namespace MetricMetadata {
        interface $Properties {
            type?: prometheus.MetricMetadata.MetricType;
            metricFamilyName?: string;
            help?: string;
            unit?: string;
            $unknowns?: Uint8Array[];
        }
        type $Shape = prometheus.MetricMetadata.$Properties;

        enum MetricType {
            UNKNOWN = 0,
            COUNTER = 1,
            GAUGE = 2,
            HISTOGRAM = 3,
            GAUGEHISTOGRAM = 4,
            SUMMARY = 5,
            INFO = 6,
            STATESET = 7
        }
    }

    interface ISample extends prometheus.Sample.$Properties {
    }

    class Sample {
        constructor(properties?: prometheus.Sample.$Properties);
        $unknowns?: Uint8Array[];
        value: number;
        timestamp: number;
        static create(properties: prometheus.Sample.$Shape): prometheus.Sample & prometheus.Sample.$Shape;
        static create(properties?: prometheus.Sample.$Properties): prometheus.Sample;
        static encode(message: prometheus.Sample.$Properties, writer?: $protobuf.Writer): $protobuf.Writer;
        static decode(reader: ($protobuf.Reader|Uint8Array), length?: number): prometheus.Sample & prometheus.Sample.$Shape;
        static verify(message: { [k: string]: any }): (string|null);
        static fromObject(object: { [k: string]: any }): prometheus.Sample;
        static toObject(message: prometheus.Sample, options?: $protobuf.IConversionOptions): { [k: string]: any };
        toJSON(): { [k: string]: any };
    }

    namespace Sample {
        interface $Properties {
            value?: number;
            timestamp?: number;
            $unknowns?: Uint8Array[];
        }
        type $Shape = prometheus.Sample.$Properties;
    }

    interface IExemplar extends prometheus.Exemplar.$Properties {
    }

    class Exemplar {
        constructor(properties?: prometheus.Exemplar.$Properties);
        $unknowns?: Uint8Array[];
        labels: prometheus.Label[];
        value: number;
        timestamp: number;
        static create(properties: prometheus.Exemplar.$Shape): prometheus.Exemplar & prometheus.Exemplar.$Shape;
        static create(properties?: prometheus.Exemplar.$Properties): prometheus.Exemplar;
        static encode(message: prometheus.Exemplar.$Properties, writer?: $protobuf.Writer): $protobuf.Writer;
        static decode(reader: ($protobuf.Reader|Uint8Array), length?: number): prometheus.Exemplar & prometheus.Exemplar.$Shape;
        static verify(message: { [k: string]: any }): (string|null);
        static fromObject(object: { [k: string]: any }): prometheus.Exemplar;
        static toObject(message: prometheus.Exemplar, options?: $protobuf.IConversionOptions): { [k: string]: any };
        toJSON(): { [k: string]: any };
    }

    namespace Exemplar {
        interface $Properties {
            labels?: prometheus.Label.$Properties[];
            value?: number;
            timestamp?: number;
            $unknowns?: Uint8Array[];
        }
        type $Shape = prometheus.Exemplar.$Properties;
    }

    interface IHistogram extends prometheus.Histogram.$Properties {
    }

    class Histogram {
        constructor(properties?: prometheus.Histogram.$Properties);
        $unknowns?: Uint8Array[];
        countInt: (number|null);
        countFloat: (number|null);
        sum: number;
        schema: number;
        zeroThreshold: number;
        zeroCountInt: (number|null);
        zeroCountFloat: (number|null);
        negativeSpans: prometheus.BucketSpan[];
        negativeDeltas: number[];
        negativeCounts: number[];
        positiveSpans: prometheus.BucketSpan[];
        positiveDeltas: number[];
        positiveCounts: number[];
        resetHint: prometheus.Histogram.ResetHint;
        timestamp: number;
        count?: ("countInt"|"countFloat");
        zeroCount?: ("zeroCountInt"|"zeroCountFloat");
        static create(properties: prometheus.Histogram.$Shape): prometheus.Histogram & prometheus.Histogram.$Shape;
        static create(properties?: prometheus.Histogram.$Properties): prometheus.Histogram;
        static encode(message: prometheus.Histogram.$Properties, writer?: $protobuf.Writer): $protobuf.Writer;
        static decode(reader: ($protobuf.Reader|Uint8Array), length?: number): prometheus.Histogram & prometheus.Histogram.$Shape;
        static verify(message: { [k: string]: any }): (string|null);
        static fromObject(object: { [k: string]: any }): prometheus.Histogram;
        static toObject(message: prometheus.Histogram, options?: $protobuf.IConversionOptions): { [k: string]: any };
        toJSON(): { [k: string]: any };
    }

    namespace Histogram {
        interface $Properties {
            countInt?: (number|null);
            countFloat?: (number|null);
            sum?: number;
            schema?: number;
            zeroThreshold?: number;
            zeroCountInt?: (number|null);
            zeroCountFloat?: (number|null);
            negativeSpans?: prometheus.BucketSpan.$Properties[];
            negativeDeltas?: number[];
            negativeCounts?: number[];
            positiveSpans?: prometheus.BucketSpan.$Properties[];
            positiveDeltas?: number[];
            positiveCounts?: number[];
            resetHint?: prometheus.Histogram.ResetHint;
            timestamp?: number;
            count?: ("countInt"|"countFloat");
            zeroCount?: ("zeroCountInt"|"zeroCountFloat");
            $unknowns?: Uint8Array[];
        }
        type $Shape = {
          countInt?: number|null;
          countFloat?: number|null;
          sum?: number;
          schema?: number;
          zeroThreshold?: number;
          zeroCountInt?: number|null;
          zeroCountFloat?: number|null;
          negativeSpans?: prometheus.BucketSpan.$Shape[];
          negativeDeltas?: number[];
          negativeCounts?: number[];
          positiveSpans?: prometheus.BucketSpan.$Shape[];
          positiveDeltas?: number[];
          positiveCounts?: number[];
          resetHint?: prometheus.Histogram.ResetHint;
          timestamp?: number;
          $unknowns?: Uint8Array[];
        } & (
          ({ count?: undefined; countInt?: null; countFloat?: null }|{ count?: "countInt"; countInt: number; countFloat?: null }|{ count?: "countFloat"; countInt?: null; countFloat: number })
        ) & (
          ({ zeroCount?: undefined; zeroCountInt?: null; zeroCountFloat?: null }|{ zeroCount?: "zeroCountInt"; zeroCountInt: number; zeroCountFloat?: null }|{ zeroCount?: "zeroCountFloat"; zeroCountInt?: null; zeroCountFloat: number })
        );

        enum ResetHint {
            UNKNOWN = 0,
            YES = 1,
            NO = 2,
            GAUGE = 3
        }
    }

    interface IBucketSpan extends prometheus.BucketSpan.$Properties {
    }

    class BucketSpan {
        constructor(properties?: prometheus.BucketSpan.$Properties);
        $unknowns?: Uint8Array[];
        offset: number;
        length: number;
        static create(properties: prometheus.BucketSpan.$Shape): prometheus.BucketSpan & prometheus.BucketSpan.$Shape;
        static create(properties?: prometheus.BucketSpan.$Properties): prometheus.BucketSpan;
        static encode(message: prometheus.BucketSpan.$Properties, writer?: $protobuf.Writer): $protobuf.Writer;
        static decode(reader: ($protobuf.Reader|Uint8Array), length?: number): prometheus.BucketSpan & prometheus.BucketSpan.$Shape;
        static verify(message: { [k: string]: any }): (string|null);
        static fromObject(object: { [k: string]: any }): prometheus.BucketSpan;
        static toObject(message: prometheus.BucketSpan, options?: $protobuf.IConversionOptions): { [k: string]: any };
        toJSON(): { [k: string]: any };
    }

    namespace BucketSpan {
        interface $Properties {
            offset?: number;
            length?: number;
            $unknowns?: Uint8Array[];
        }
        type $Shape = prometheus.BucketSpan.$Properties;
    }

    interface ITimeSeries extends prometheus.TimeSeries.$Properties {
    }

    class TimeSeries {
        constructor(properties?: prometheus.TimeSeries.$Properties);
        $unknowns?: Uint8Array[];
        labels: prometheus.Label[];
        samples: prometheus.Sample[];
        exemplars: prometheus.Exemplar[];
        histograms: prometheus.Histogram[];
        static create(properties: prometheus.TimeSeries.$Shape): prometheus.TimeSeries & prometheus.TimeSeries.$Shape;
        static create(properties?: prometheus.TimeSeries.$Properties): prometheus.TimeSeries;
        static encode(message: prometheus.TimeSeries.$Properties, writer?: $protobuf.Writer): $protobuf.Writer;
        static decode(reader: ($protobuf.Reader|Uint8Array), length?: number): prometheus.TimeSeries & prometheus.TimeSeries.$Shape;
        static verify(message: { [k: string]: any }): (string|null);
        static fromObject(object: { [k: string]: any }): prometheus.TimeSeries;
        static toObject(message: prometheus.TimeSeries, options?: $protobuf.IConversionOptions): { [k: string]: any };
        toJSON(): { [k: string]: any };
    }

    namespace TimeSeries {
        interface $Properties {
            labels?: prometheus.Label.$Properties[];
            samples?: prometheus.Sample.$Properties[];
            exemplars?: prometheus.Exemplar.$Properties[];
            histograms?: prometheus.Histogram.$Properties[];
            $unknowns?: Uint8Array[];
        }
        type $Shape = {
          labels?: prometheus.Label.$Shape[];
          samples?: prometheus.Sample.$Shape[];
          exemplars?: prometheus.Exemplar.$Shape[];
          histograms?: prometheus.Histogram.$Shape[];
          $unknowns?: Uint8Array[];
        };
    }

    interface ILabel extends prometheus.Label.$Properties {
    }

    class Label {
        constructor(properties?: prometheus.Label.$Properties);
        $unknowns?: Uint8Array[];
        name: string;
        value: string;
        static create(properties: prometheus.Label.$Shape): prometheus.Label & prometheus.Label.$Shape;
        static create(properties?: prometheus.Label.$Properties): prometheus.Label;
        static encode(message: prometheus.Label.$Properties, writer?: $protobuf.Writer): $protobuf.Writer;
        static decode(reader: ($protobuf.Reader|Uint8Array), length?: number): prometheus.Label & prometheus.Label.$Shape;
        static verify(message: { [k: string]: any }): (string|null);
        static fromObject(object: { [k: string]: any }): prometheus.Label;
        static toObject(message: prometheus.Label, options?: $protobuf.IConversionOptions): { [k: string]: any };
        toJSON(): { [k: string]: any };
    }

    namespace Label {
        interface $Properties {
            name?: string;
            value?: string;
            $unknowns?: Uint8Array[];
        }
        type $Shape = prometheus.Label.$Properties;
    }

    interface ILabels extends prometheus.Labels.$Properties {
    }

    class Labels {
        constructor(properties?: prometheus.Labels.$Properties);
        $unknowns?: Uint8Array[];
        labels: prometheus.Label[];
        static create(properties: prometheus.Labels.$Shape): prometheus.Labels & prometheus.Labels.$Shape;
        static create(properties?: prometheus.Labels.$Properties): prometheus.Labels;
        static encode(message: prometheus.Labels.$Properties, writer?: $protobuf.Writer): $protobuf.Writer;
        static decode(reader: ($protobuf.Reader|Uint8Array), length?: number): prometheus.Labels & prometheus.Labels.$Shape;
        static verify(message: { [k: string]: any }): (string|null);
        static fromObject(object: { [k: string]: any }): prometheus.Labels;
        static toObject(message: prometheus.Labels, options?: $protobuf.IConversionOptions): { [k: string]: any };
        toJSON(): { [k: string]: any };
    }

    namespace Labels {
        interface $Properties {
            labels?: prometheus.Label.$Properties[];
            $unknowns?: Uint8Array[];
        }
        type $Shape = prometheus.Labels.$Properties;
    }

    interface ILabelMatcher extends prometheus.LabelMatcher.$Properties {
    }

    class LabelMatcher {
        constructor(properties?: prometheus.LabelMatcher.$Properties);
        $unknowns?: Uint8Array[];
        type: prometheus.LabelMatcher.Type;
        name: string;
        value: string;
        static create(properties: prometheus.LabelMatcher.$Shape): prometheus.LabelMatcher & prometheus.LabelMatcher.$Shape;
        static create(properties?: prometheus.LabelMatcher.$Properties): prometheus.LabelMatcher;
        static encode(message: prometheus.LabelMatcher.$Properties, writer?: $protobuf.Writer): $protobuf.Writer;
        static decode(reader: ($protobuf.Reader|Uint8Array), length?: number): prometheus.LabelMatcher & prometheus.LabelMatcher.$Shape;
        static verify(message: { [k: string]: any }): (string|null);
        static fromObject(object: { [k: string]: any }): prometheus.LabelMatcher;
        static toObject(message: prometheus.LabelMatcher, options?: $protobuf.IConversionOptions): { [k: string]: any };
        toJSON(): { [k: string]: any };
    }

    namespace LabelMatcher {
        interface $Properties {
            type?: prometheus.LabelMatcher.Type;
            name?: string;
            value?: string;
            $unknowns?: Uint8Array[];
        }
        type $Shape = prometheus.LabelMatcher.$Properties;

        enum Type {
            EQ = 0,
            NEQ = 1,
            RE = 2,
            NRE = 3
        }
    }

    interface IReadHints extends prometheus.ReadHints.$Properties {
    }

    class ReadHints {
        constructor(properties?: prometheus.ReadHints.$Properties);
        $unknowns?: Uint8Array[];
        stepMs: number;
        func: string;
        startMs: number;
        endMs: number;
        grouping: string[];
        by: boolean;
        rangeMs: number;
        static create(properties: prometheus.ReadHints.$Shape): prometheus.ReadHints & prometheus.ReadHints.$Shape;
        static create(properties?: prometheus.ReadHints.$Properties): prometheus.ReadHints;
        static encode(message: prometheus.ReadHints.$Properties, writer?: $protobuf.Writer): $protobuf.Writer;
        static decode(reader: ($protobuf.Reader|Uint8Array), length?: number): prometheus.ReadHints & prometheus.ReadHints.$Shape;
        static verify(message: { [k: string]: any }): (string|null);
        static fromObject(object: { [k: string]: any }): prometheus.ReadHints;
        static toObject(message: prometheus.ReadHints, options?: $protobuf.IConversionOptions): { [k: string]: any };
        toJSON(): { [k: string]: any };
    }

    namespace ReadHints {
        interface $Properties {
            stepMs?: number;
            func?: string;
            startMs?: number;
            endMs?: number;
            grouping?: string[];
            by?: boolean;
            rangeMs?: number;
            $unknowns?: Uint8Array[];
        }
        type $Shape = prometheus.ReadHints.$Properties;
    }

    interface IChunk extends prometheus.Chunk.$Properties {
    }

    class Chunk {
        constructor(properties?: prometheus.Chunk.$Properties);
        $unknowns?: Uint8Array[];
        minTimeMs: number;
        maxTimeMs: number;
        type: prometheus.Chunk.Encoding;
        data: Uint8Array;
        static create(properties: prometheus.Chunk.$Shape): prometheus.Chunk & prometheus.Chunk.$Shape;
        static create(properties?: prometheus.Chunk.$Properties): prometheus.Chunk;
        static encode(message: prometheus.Chunk.$Properties, writer?: $protobuf.Writer): $protobuf.Writer;
        static decode(reader: ($protobuf.Reader|Uint8Array), length?: number): prometheus.Chunk & prometheus.Chunk.$Shape;
        static verify(message: { [k: string]: any }): (string|null);
        static fromObject(object: { [k: string]: any }): prometheus.Chunk;
        static toObject(message: prometheus.Chunk, options?: $protobuf.IConversionOptions): { [k: string]: any };
        toJSON(): { [k: string]: any };
    }

    namespace Chunk {
        interface $Properties {
            minTimeMs?: number;
            maxTimeMs?: number;
            type?: prometheus.Chunk.Encoding;
            data?: Uint8Array;
            $unknowns?: Uint8Array[];
        }
        type $Shape = prometheus.Chunk.$Properties;

        enum Encoding {
            UNKNOWN = 0,
            XOR = 1,
            HISTOGRAM = 2
        }
    }

    interface IChunkedSeries extends prometheus.ChunkedSeries.$Properties {
    }

    class ChunkedSeries {
        constructor(properties?: prometheus.ChunkedSeries.$Properties);
        $unknowns?: Uint8Array[];
        labels: prometheus.Label[];
        chunks: prometheus.Chunk[];
        static create(properties: prometheus.ChunkedSeries.$Shape): prometheus.ChunkedSeries & prometheus.ChunkedSeries.$Shape;
        static create(properties?: prometheus.ChunkedSeries.$Properties): prometheus.ChunkedSeries;
        static encode(message: prometheus.ChunkedSeries.$Properties, writer?: $protobuf.Writer): $protobuf.Writer;
        static decode(reader: ($protobuf.Reader|Uint8Array), length?: number): prometheus.ChunkedSeries & prometheus.ChunkedSeries.$Shape;
        static verify(message: { [k: string]: any }): (string|null);
        static fromObject(object: { [k: string]: any }): prometheus.ChunkedSeries;
        static toObject(message: prometheus.ChunkedSeries, options?: $protobuf.IConversionOptions): { [k: string]: any };
        toJSON(): { [k: string]: any };
    }

    namespace ChunkedSeries {
        interface $Properties {
            labels?: prometheus.Label.$Properties[];
            chunks?: prometheus.Chunk.$Properties[];
            $unknowns?: Uint8Array[];
        }
        type $Shape = prometheus.ChunkedSeries.$Properties;
    }
}
