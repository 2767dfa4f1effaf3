/*eslint-disable block-scoped-var, id-length, no-control-regex, no-magic-numbers, no-mixed-operators, no-prototype-builtins, no-redeclare, no-shadow, no-var, sort-vars, default-case, jsdoc/require-param*/
import $protobuf from "protobufjs/minimal.js";

// Common aliases
const $Reader = $protobuf.Reader, $Writer = $protobuf.Writer, $util = $protobuf.util;
const $Object = $util.global.Object, $undefined = $util.global.undefined, $Error = $util.global.Error, $RangeError = $util.global.RangeError, $TypeError = $util.global.TypeError, $String = $util.global.String, $Number = $util.global.Number, $parseInt = $util.global.parseInt, $BigInt = $util.global.BigInt, $Array = $util.global.Array, $isFinite = $util.global.isFinite;

// Exported root namespace
const $root = $protobuf.roots["default"] || ($protobuf.roots["default"] = {});

export const tally = $root.tally = (() => {

    /**
     * Namespace tally.
     * @exports tally
     * @namespace
     */
    const tally = {};

    tally.v1 = (function() {

        /**
         * Namespace v1.
         * @memberof tally
         * @namespace
         */
        const v1 = {};

        v1.DeadLetter = (function() {

            /**
             * Properties of a DeadLetter.
             * @typedef {Object} tally.v1.DeadLetter.$Properties
             * @property {string} [reason] DeadLetter reason
             * @property {string} [sourceTopic] DeadLetter sourceTopic
             * @property {number} [sourcePartition] DeadLetter sourcePartition
             * @property {number} [sourceOffset] DeadLetter sourceOffset
             * @property {string} [key] DeadLetter key
             * @property {Uint8Array} [value] DeadLetter value
             * @property {number} [timestampMs] DeadLetter timestampMs
             * @property {string} [stage] DeadLetter stage
             * @property {Array.<Uint8Array>} [$unknowns] Unknown fields preserved while decoding when enabled
             */

            /**
             * Properties of a DeadLetter.
             * @memberof tally.v1
             * @interface IDeadLetter
             * @augments tally.v1.DeadLetter.$Properties
             * @deprecated Use tally.v1.DeadLetter.$Properties instead.
             */

            /**
             * Shape of a DeadLetter.
             * @typedef {tally.v1.DeadLetter.$Properties} tally.v1.DeadLetter.$Shape
             */

            /**
             * Constructs a new DeadLetter.
             * @memberof tally.v1
             * @classdesc Represents a DeadLetter.
             * @constructor
             * @param {tally.v1.DeadLetter.$Properties=} [properties] Properties to set
             * @property {Array.<Uint8Array>} [$unknowns] Unknown fields preserved while decoding when enabled
             */
            const DeadLetter = function (properties) {
                if (properties)
                    for (let keys = $Object.keys(properties), i = 0; i < keys.length; ++i)
                        if (properties[keys[i]] != null && keys[i] !== "__proto__")
                            this[keys[i]] = properties[keys[i]];
            };

            /**
             * DeadLetter reason.
             * @member {string} reason
             * @memberof tally.v1.DeadLetter
             * @instance
             */
            DeadLetter.prototype.reason = "";

            /**
             * DeadLetter sourceTopic.
             * @member {string} sourceTopic
             * @memberof tally.v1.DeadLetter
             * @instance
             */
            DeadLetter.prototype.sourceTopic = "";

            /**
             * DeadLetter sourcePartition.
             * @member {number} sourcePartition
             * @memberof tally.v1.DeadLetter
             * @instance
             */
            DeadLetter.prototype.sourcePartition = 0;

            /**
             * DeadLetter sourceOffset.
             * @member {number} sourceOffset
             * @memberof tally.v1.DeadLetter
             * @instance
             */
            DeadLetter.prototype.sourceOffset = $util.Long ? $util.Long.fromBits(0,0,false) : 0;

            /**
             * DeadLetter key.
             * @member {string} key
             * @memberof tally.v1.DeadLetter
             * @instance
             */
            DeadLetter.prototype.key = "";

            /**
             * DeadLetter value.
             * @member {Uint8Array} value
             * @memberof tally.v1.DeadLetter
             * @instance
             */
            DeadLetter.prototype.value = $util.newBuffer([]);

            /**
             * DeadLetter timestampMs.
             * @member {number} timestampMs
             * @memberof tally.v1.DeadLetter
             * @instance
             */
            DeadLetter.prototype.timestampMs = $util.Long ? $util.Long.fromBits(0,0,false) : 0;

            /**
             * DeadLetter stage.
             * @member {string} stage
             * @memberof tally.v1.DeadLetter
             * @instance
             */
            DeadLetter.prototype.stage = "";

            /**
             * Creates a new DeadLetter instance using the specified properties.
             * @function create
             * @memberof tally.v1.DeadLetter
             * @static
             * @param {tally.v1.DeadLetter.$Properties=} [properties] Properties to set
             * @returns {tally.v1.DeadLetter} DeadLetter instance
             * @type {{
             *   (properties: tally.v1.DeadLetter.$Shape): tally.v1.DeadLetter & tally.v1.DeadLetter.$Shape;
             *   (properties?: tally.v1.DeadLetter.$Properties): tally.v1.DeadLetter;
             * }}
             */
            DeadLetter.create = function(properties) {
                return new DeadLetter(properties);
            };

            /**
             * Encodes the specified DeadLetter message. Does not implicitly {@link tally.v1.DeadLetter.verify|verify} messages.
             * @function encode
             * @memberof tally.v1.DeadLetter
             * @static
             * @param {tally.v1.DeadLetter.$Properties} message DeadLetter message or plain object to encode
             * @param {$protobuf.Writer} [writer] Writer to encode to
             * @returns {$protobuf.Writer} Writer
             */
            DeadLetter.encode = function (message, writer, _depth) {
                if (!writer)
                    writer = $Writer.create();
                if (_depth === $undefined)
                    _depth = 0;
                if (_depth > $util.recursionLimit)
                    throw $Error("max depth exceeded");
                if (message.reason != null && $Object.hasOwnProperty.call(message, "reason") && message.reason !== "")
                    writer.uint32(/* id 1, wireType 2 =*/10).string(message.reason);
                if (message.sourceTopic != null && $Object.hasOwnProperty.call(message, "sourceTopic") && message.sourceTopic !== "")
                    writer.uint32(/* id 2, wireType 2 =*/18).string(message.sourceTopic);
                if (message.sourcePartition != null && $Object.hasOwnProperty.call(message, "sourcePartition") && message.sourcePartition !== 0)
                    writer.uint32(/* id 3, wireType 0 =*/24).int32(message.sourcePartition);
                if (message.sourceOffset != null && $Object.hasOwnProperty.call(message, "sourceOffset") && (typeof message.sourceOffset === "object" ? message.sourceOffset.low || message.sourceOffset.high : message.sourceOffset !== 0))
                    writer.uint32(/* id 4, wireType 0 =*/32).int64(message.sourceOffset);
                if (message.key != null && $Object.hasOwnProperty.call(message, "key") && message.key !== "")
                    writer.uint32(/* id 5, wireType 2 =*/42).string(message.key);
                if (message.value != null && $Object.hasOwnProperty.call(message, "value") && message.value.length)
                    writer.uint32(/* id 6, wireType 2 =*/50).bytes(message.value);
                if (message.timestampMs != null && $Object.hasOwnProperty.call(message, "timestampMs") && (typeof message.timestampMs === "object" ? message.timestampMs.low || message.timestampMs.high : message.timestampMs !== 0))
                    writer.uint32(/* id 7, wireType 0 =*/56).int64(message.timestampMs);
                if (message.stage != null && $Object.hasOwnProperty.call(message, "stage") && message.stage !== "")
                    writer.uint32(/* id 8, wireType 2 =*/66).string(message.stage);
                if (message.$unknowns != null && $Object.hasOwnProperty.call(message, "$unknowns"))
                    for (let i = 0; i < message.$unknowns.length; ++i)
                        writer.raw(message.$unknowns[i]);
                return writer;
            };

            /**
             * Decodes a DeadLetter message from the specified reader or buffer.
             * @function decode
             * @memberof tally.v1.DeadLetter
             * @static
             * @param {$protobuf.Reader|Uint8Array} reader Reader or buffer to decode from
             * @param {number} [length] Message length if known beforehand
             * @returns {tally.v1.DeadLetter & tally.v1.DeadLetter.$Shape} DeadLetter
             * @throws {Error} If the payload is not a reader or valid buffer
             * @throws {$protobuf.util.ProtocolError} If required fields are missing
             */
            DeadLetter.decode = function (reader, length, _end, _depth, _target) {
                if (!(reader instanceof $Reader))
                    reader = $Reader.create(reader);
                if (_depth === $undefined)
                    _depth = 0;
                if (_depth > $Reader.recursionLimit)
                    throw $Error("max depth exceeded");
                let end, message, value;
                if (length === $undefined)
                    end = reader.len;
                else {
                    end = reader.pos + length;
                    if (end > reader.len)
                        throw $RangeError("index out of range");
                    length = reader.len;
                    reader.len = end;
                }
                message = _target || new $root.tally.v1.DeadLetter();
                while (reader.pos < end) {
                    let start = reader.pos;
                    let tag = reader.tag();
                    if (tag === _end) {
                        _end = $undefined;
                        break;
                    }
                    let wireType = tag & 7;
                    switch (tag >>>= 3) {
                    case 1: {
                            if (wireType !== 2)
                                break;
                            if ((value = reader.stringVerify()).length)
                                message.reason = value;
                            else
                                delete message.reason;
                            continue;
                        }
                    case 2: {
                            if (wireType !== 2)
                                break;
                            if ((value = reader.stringVerify()).length)
                                message.sourceTopic = value;
                            else
                                delete message.sourceTopic;
                            continue;
                        }
                    case 3: {
                            if (wireType !== 0)
                                break;
                            if (value = reader.int32())
                                message.sourcePartition = value;
                            else
                                delete message.sourcePartition;
                            continue;
                        }
                    case 4: {
                            if (wireType !== 0)
                                break;
                            if (typeof (value = reader.int64()) === "object" ? value.low || value.high : value !== 0)
                                message.sourceOffset = value;
                            else
                                delete message.sourceOffset;
                            continue;
                        }
                    case 5: {
                            if (wireType !== 2)
                                break;
                            if ((value = reader.stringVerify()).length)
                                message.key = value;
                            else
                                delete message.key;
                            continue;
                        }
                    case 6: {
                            if (wireType !== 2)
                                break;
                            if ((value = reader.bytes()).length)
                                message.value = value;
                            else
                                delete message.value;
                            continue;
                        }
                    case 7: {
                            if (wireType !== 0)
                                break;
                            if (typeof (value = reader.int64()) === "object" ? value.low || value.high : value !== 0)
                                message.timestampMs = value;
                            else
                                delete message.timestampMs;
                            continue;
                        }
                    case 8: {
                            if (wireType !== 2)
                                break;
                            if ((value = reader.stringVerify()).length)
                                message.stage = value;
                            else
                                delete message.stage;
                            continue;
                        }
                    }
                    reader.skipType(wireType, _depth, tag);
                    if (!reader.discardUnknown) {
                        $util.makeProp(message, "$unknowns", false);
                        (message.$unknowns || (message.$unknowns = [])).push(reader.raw(start, reader.pos));
                    }
                }
                if (length !== $undefined) {
                    if (reader.pos !== end)
                        throw $RangeError("index out of range");
                    reader.len = length;
                }
                if (_end !== $undefined)
                    throw $Error("missing end group");
                return message;
            };

            /**
             * Verifies a DeadLetter message.
             * @function verify
             * @memberof tally.v1.DeadLetter
             * @static
             * @param {Object.<string,*>} message Plain object to verify
             * @returns {string|null} `null` if valid, otherwise the reason why it is not
             */
            DeadLetter.verify = function (message, _depth) {
                if (typeof message !== "object" || message === null)
                    return "object expected";
                if (_depth === $undefined)
                    _depth = 0;
                if (_depth > $util.recursionLimit)
                    return "max depth exceeded";
                if (message.reason != null && $Object.hasOwnProperty.call(message, "reason"))
                    if (!$util.isString(message.reason))
                        return "reason: string expected";
                if (message.sourceTopic != null && $Object.hasOwnProperty.call(message, "sourceTopic"))
                    if (!$util.isString(message.sourceTopic))
                        return "sourceTopic: string expected";
                if (message.sourcePartition != null && $Object.hasOwnProperty.call(message, "sourcePartition"))
                    if (!$util.isInteger(message.sourcePartition))
                        return "sourcePartition: integer expected";
                if (message.sourceOffset != null && $Object.hasOwnProperty.call(message, "sourceOffset"))
                    if (!$util.isInteger(message.sourceOffset) && !(message.sourceOffset && $util.isInteger(message.sourceOffset.low) && $util.isInteger(message.sourceOffset.high)))
                        return "sourceOffset: integer|Long expected";
                if (message.key != null && $Object.hasOwnProperty.call(message, "key"))
                    if (!$util.isString(message.key))
                        return "key: string expected";
                if (message.value != null && $Object.hasOwnProperty.call(message, "value"))
                    if (!(message.value && typeof message.value.length === "number" || $util.isString(message.value)))
                        return "value: buffer expected";
                if (message.timestampMs != null && $Object.hasOwnProperty.call(message, "timestampMs"))
                    if (!$util.isInteger(message.timestampMs) && !(message.timestampMs && $util.isInteger(message.timestampMs.low) && $util.isInteger(message.timestampMs.high)))
                        return "timestampMs: integer|Long expected";
                if (message.stage != null && $Object.hasOwnProperty.call(message, "stage"))
                    if (!$util.isString(message.stage))
                        return "stage: string expected";
                return null;
            };

            /**
             * Creates a DeadLetter message from a plain object. Also converts values to their respective internal types.
             * @function fromObject
             * @memberof tally.v1.DeadLetter
             * @static
             * @param {Object.<string,*>} object Plain object
             * @returns {tally.v1.DeadLetter} DeadLetter
             */
            DeadLetter.fromObject = function (object, _depth) {
                if (object instanceof $root.tally.v1.DeadLetter)
                    return object;
                if (!$util.isObject(object))
                    throw $TypeError(".tally.v1.DeadLetter: object expected");
                if (_depth === $undefined)
                    _depth = 0;
                if (_depth > $util.recursionLimit)
                    throw $Error("max depth exceeded");
                let message = new $root.tally.v1.DeadLetter();
                if (object.reason != null)
                    if (typeof object.reason !== "string" || object.reason.length)
                        message.reason = $String(object.reason);
                if (object.sourceTopic != null)
                    if (typeof object.sourceTopic !== "string" || object.sourceTopic.length)
                        message.sourceTopic = $String(object.sourceTopic);
                if (object.sourcePartition != null)
                    if ($Number(object.sourcePartition) !== 0)
                        message.sourcePartition = object.sourcePartition | 0;
                if (object.sourceOffset != null)
                    if (typeof object.sourceOffset === "object" ? object.sourceOffset.low || object.sourceOffset.high : $Number(object.sourceOffset) !== 0)
                        if ($util.Long)
                            message.sourceOffset = $util.Long.fromValue(object.sourceOffset, false);
                        else if (typeof object.sourceOffset === "string")
                            message.sourceOffset = $parseInt(object.sourceOffset, 10);
                        else if (typeof object.sourceOffset === "number")
                            message.sourceOffset = object.sourceOffset;
                        else if (typeof object.sourceOffset === "object")
                            message.sourceOffset = new $util.LongBits(object.sourceOffset.low >>> 0, object.sourceOffset.high >>> 0).toNumber();
                if (object.key != null)
                    if (typeof object.key !== "string" || object.key.length)
                        message.key = $String(object.key);
                if (object.value != null)
                    if (object.value.length)
                        if (typeof object.value === "string")
                            $util.base64.decode(object.value, message.value = $util.newBuffer($util.base64.length(object.value)), 0);
                        else if (object.value.length >= 0)
                            message.value = object.value;
                if (object.timestampMs != null)
                    if (typeof object.timestampMs === "object" ? object.timestampMs.low || object.timestampMs.high : $Number(object.timestampMs) !== 0)
                        if ($util.Long)
                            message.timestampMs = $util.Long.fromValue(object.timestampMs, false);
                        else if (typeof object.timestampMs === "string")
                            message.timestampMs = $parseInt(object.timestampMs, 10);
                        else if (typeof object.timestampMs === "number")
                            message.timestampMs = object.timestampMs;
                        else if (typeof object.timestampMs === "object")
                            message.timestampMs = new $util.LongBits(object.timestampMs.low >>> 0, object.timestampMs.high >>> 0).toNumber();
                if (object.stage != null)
                    if (typeof object.stage !== "string" || object.stage.length)
                        message.stage = $String(object.stage);
                return message;
            };

            /**
             * Creates a plain object from a DeadLetter message. Also converts values to other types if specified.
             * @function toObject
             * @memberof tally.v1.DeadLetter
             * @static
             * @param {tally.v1.DeadLetter} message DeadLetter
             * @param {$protobuf.IConversionOptions} [options] Conversion options
             * @returns {Object.<string,*>} Plain object
             */
            DeadLetter.toObject = function (message, options, _depth) {
                if (!options)
                    options = {};
                if (_depth === $undefined)
                    _depth = 0;
                if (_depth > $util.recursionLimit)
                    throw $Error("max depth exceeded");
                let object = {};
                if (options.defaults) {
                    object.reason = "";
                    object.sourceTopic = "";
                    object.sourcePartition = 0;
                    if ($util.Long) {
                        let long = new $util.Long(0, 0, false);
                        object.sourceOffset = options.longs === $String ? long.toString() : options.longs === $Number ? long.toNumber() : typeof $BigInt !== "undefined" && options.longs === $BigInt ? long.toBigInt() : long;
                    } else
                        object.sourceOffset = options.longs === $String ? "0" : typeof $BigInt !== "undefined" && options.longs === $BigInt ? $BigInt("0") : 0;
                    object.key = "";
                    if (options.bytes === $String)
                        object.value = "";
                    else {
                        object.value = [];
                        if (options.bytes !== $Array)
                            object.value = $util.newBuffer(object.value);
                    }
                    if ($util.Long) {
                        let long = new $util.Long(0, 0, false);
                        object.timestampMs = options.longs === $String ? long.toString() : options.longs === $Number ? long.toNumber() : typeof $BigInt !== "undefined" && options.longs === $BigInt ? long.toBigInt() : long;
                    } else
                        object.timestampMs = options.longs === $String ? "0" : typeof $BigInt !== "undefined" && options.longs === $BigInt ? $BigInt("0") : 0;
                    object.stage = "";
                }
                if (message.reason != null && $Object.hasOwnProperty.call(message, "reason"))
                    object.reason = message.reason;
                if (message.sourceTopic != null && $Object.hasOwnProperty.call(message, "sourceTopic"))
                    object.sourceTopic = message.sourceTopic;
                if (message.sourcePartition != null && $Object.hasOwnProperty.call(message, "sourcePartition"))
                    object.sourcePartition = message.sourcePartition;
                if (message.sourceOffset != null && $Object.hasOwnProperty.call(message, "sourceOffset"))
                    if (typeof $BigInt !== "undefined" && options.longs === $BigInt)
                        object.sourceOffset = typeof message.sourceOffset === "number" ? $BigInt(message.sourceOffset) : $util.Long.fromBits(message.sourceOffset.low >>> 0, message.sourceOffset.high >>> 0, false).toBigInt();
                    else if (typeof message.sourceOffset === "number")
                        object.sourceOffset = options.longs === $String ? $String(message.sourceOffset) : message.sourceOffset;
                    else
                        object.sourceOffset = options.longs === $String ? $util.Long.prototype.toString.call(message.sourceOffset) : options.longs === $Number ? new $util.LongBits(message.sourceOffset.low >>> 0, message.sourceOffset.high >>> 0).toNumber() : message.sourceOffset;
                if (message.key != null && $Object.hasOwnProperty.call(message, "key"))
                    object.key = message.key;
                if (message.value != null && $Object.hasOwnProperty.call(message, "value"))
                    object.value = options.bytes === $String ? $util.base64.encode(message.value, 0, message.value.length) : options.bytes === $Array ? $Array.prototype.slice.call(message.value) : message.value;
                if (message.timestampMs != null && $Object.hasOwnProperty.call(message, "timestampMs"))
                    if (typeof $BigInt !== "undefined" && options.longs === $BigInt)
                        object.timestampMs = typeof message.timestampMs === "number" ? $BigInt(message.timestampMs) : $util.Long.fromBits(message.timestampMs.low >>> 0, message.timestampMs.high >>> 0, false).toBigInt();
                    else if (typeof message.timestampMs === "number")
                        object.timestampMs = options.longs === $String ? $String(message.timestampMs) : message.timestampMs;
                    else
                        object.timestampMs = options.longs === $String ? $util.Long.prototype.toString.call(message.timestampMs) : options.longs === $Number ? new $util.LongBits(message.timestampMs.low >>> 0, message.timestampMs.high >>> 0).toNumber() : message.timestampMs;
                if (message.stage != null && $Object.hasOwnProperty.call(message, "stage"))
                    object.stage = message.stage;
                return object;
            };

            /**
             * Converts this DeadLetter to JSON.
             * @function toJSON
             * @memberof tally.v1.DeadLetter
             * @instance
             * @returns {Object.<string,*>} JSON object
             */
            DeadLetter.prototype.toJSON = function() {
                return DeadLetter.toObject(this, $protobuf.util.toJSONOptions);
            };

            return DeadLetter;
        })();

        /**
         * EventKind enum.
         * @name tally.v1.EventKind
         * @enum {number}
         * @property {number} EVENT_KIND_UNSPECIFIED=0 EVENT_KIND_UNSPECIFIED value
         * @property {number} EVENT_KIND_STATE=1 EVENT_KIND_STATE value
         * @property {number} EVENT_KIND_CRASH=2 EVENT_KIND_CRASH value
         * @property {number} EVENT_KIND_RESTART=3 EVENT_KIND_RESTART value
         * @property {number} EVENT_KIND_SCALE=4 EVENT_KIND_SCALE value
         * @property {number} EVENT_KIND_RELEASE=5 EVENT_KIND_RELEASE value
         * @property {number} EVENT_KIND_DEPLOY=6 EVENT_KIND_DEPLOY value
         * @property {number} EVENT_KIND_CONFIG=7 EVENT_KIND_CONFIG value
         */
        v1.EventKind = (function() {
            const valuesById = $Object.create(null), values = $Object.create(valuesById);
            values[valuesById[0] = "EVENT_KIND_UNSPECIFIED"] = 0;
            values[valuesById[1] = "EVENT_KIND_STATE"] = 1;
            values[valuesById[2] = "EVENT_KIND_CRASH"] = 2;
            values[valuesById[3] = "EVENT_KIND_RESTART"] = 3;
            values[valuesById[4] = "EVENT_KIND_SCALE"] = 4;
            values[valuesById[5] = "EVENT_KIND_RELEASE"] = 5;
            values[valuesById[6] = "EVENT_KIND_DEPLOY"] = 6;
            values[valuesById[7] = "EVENT_KIND_CONFIG"] = 7;
            return values;
        })();

        v1.PlatformEvent = (function() {

            /**
             * Properties of a PlatformEvent.
             * @typedef {Object} tally.v1.PlatformEvent.$Properties
             * @property {tally.v1.Origin.$Properties} [origin] PlatformEvent origin
             * @property {tally.v1.EventKind} [kind] PlatformEvent kind
             * @property {string} [process] PlatformEvent process
             * @property {string} [description] PlatformEvent description
             * @property {string} [actor] PlatformEvent actor
             * @property {Array.<tally.v1.PlatformEvent.$Properties>} [next] PlatformEvent next
             * @property {Array.<Uint8Array>} [$unknowns] Unknown fields preserved while decoding when enabled
             */

            /**
             * Properties of a PlatformEvent.
             * @memberof tally.v1
             * @interface IPlatformEvent
             * @augments tally.v1.PlatformEvent.$Properties
             * @deprecated Use tally.v1.PlatformEvent.$Properties instead.
             */

            /**
             * Shape of a PlatformEvent.
             * @typedef {tally.v1.PlatformEvent.$Properties} tally.v1.PlatformEvent.$Shape
             */

            /**
             * Constructs a new PlatformEvent.
             * @memberof tally.v1
             * @classdesc Represents a PlatformEvent.
             * @constructor
             * @param {tally.v1.PlatformEvent.$Properties=} [properties] Properties to set
             * @property {Array.<Uint8Array>} [$unknowns] Unknown fields preserved while decoding when enabled
             */
            const PlatformEvent = function (properties) {
                this.next = [];
                if (properties)
                    for (let keys = $Object.keys(properties), i = 0; i < keys.length; ++i)
                        if (properties[keys[i]] != null && keys[i] !== "__proto__")
                            this[keys[i]] = properties[keys[i]];
            };

            /**
             * PlatformEvent origin.
             * @member {tally.v1.Origin} origin
             * @memberof tally.v1.PlatformEvent
             * @instance
             */
            PlatformEvent.prototype.origin = null;

            /**
             * PlatformEvent kind.
             * @member {tally.v1.EventKind} kind
             * @memberof tally.v1.PlatformEvent
             * @instance
             */
            PlatformEvent.prototype.kind = 0;

            /**
             * PlatformEvent process.
             * @member {string} process
             * @memberof tally.v1.PlatformEvent
             * @instance
             */
            PlatformEvent.prototype.process = "";

            /**
             * PlatformEvent description.
             * @member {string} description
             * @memberof tally.v1.PlatformEvent
             * @instance
             */
            PlatformEvent.prototype.description = "";

            /**
             * PlatformEvent actor.
             * @member {string} actor
             * @memberof tally.v1.PlatformEvent
             * @instance
             */
            PlatformEvent.prototype.actor = "";

            /**
             * PlatformEvent next.
             * @member {Array.<tally.v1.PlatformEvent>} next
             * @memberof tally.v1.PlatformEvent
             * @instance
             */
            PlatformEvent.prototype.next = $util.emptyArray;

            /**
             * Creates a new PlatformEvent instance using the specified properties.
             * @function create
             * @memberof tally.v1.PlatformEvent
             * @static
             * @param {tally.v1.PlatformEvent.$Properties=} [properties] Properties to set
             * @returns {tally.v1.PlatformEvent} PlatformEvent instance
             * @type {{
             *   (properties: tally.v1.PlatformEvent.$Shape): tally.v1.PlatformEvent & tally.v1.PlatformEvent.$Shape;
             *   (properties?: tally.v1.PlatformEvent.$Properties): tally.v1.PlatformEvent;
             * }}
             */
            PlatformEvent.create = function(properties) {
                return new PlatformEvent(properties);
            };

            /**
             * Encodes the specified PlatformEvent message. Does not implicitly {@link tally.v1.PlatformEvent.verify|verify} messages.
             * @function encode
             * @memberof tally.v1.PlatformEvent
             * @static
             * @param {tally.v1.PlatformEvent.$Properties} message PlatformEvent message or plain object to encode
             * @param {$protobuf.Writer} [writer] Writer to encode to
             * @returns {$protobuf.Writer} Writer
             */
            PlatformEvent.encode = function (message, writer, _depth) {
                if (!writer)
                    writer = $Writer.create();
                if (_depth === $undefined)
                    _depth = 0;
                if (_depth > $util.recursionLimit)
                    throw $Error("max depth exceeded");
                if (message.origin != null && $Object.hasOwnProperty.call(message, "origin"))
                    $root.tally.v1.Origin.encode(message.origin, writer.uint32(/* id 1, wireType 2 =*/10).fork(), _depth + 1).ldelim();
                if (message.kind != null && $Object.hasOwnProperty.call(message, "kind") && message.kind !== 0)
                    writer.uint32(/* id 2, wireType 0 =*/16).int32(message.kind);
                if (message.process != null && $Object.hasOwnProperty.call(message, "process") && message.process !== "")
                    writer.uint32(/* id 3, wireType 2 =*/26).string(message.process);
                if (message.description != null && $Object.hasOwnProperty.call(message, "description") && message.description !== "")
                    writer.uint32(/* id 4, wireType 2 =*/34).string(message.description);
                if (message.actor != null && $Object.hasOwnProperty.call(message, "actor") && message.actor !== "")
                    writer.uint32(/* id 5, wireType 2 =*/42).string(message.actor);
                if (message.next != null && message.next.length)
                    for (let i = 0; i < message.next.length; ++i)
                        $root.tally.v1.PlatformEvent.encode(message.next[i], writer.uint32(/* id 15, wireType 2 =*/122).fork(), _depth + 1).ldelim();
                if (message.$unknowns != null && $Object.hasOwnProperty.call(message, "$unknowns"))
                    for (let i = 0; i < message.$unknowns.length; ++i)
                        writer.raw(message.$unknowns[i]);
                return writer;
            };

            /**
             * Decodes a PlatformEvent message from the specified reader or buffer.
             * @function decode
             * @memberof tally.v1.PlatformEvent
             * @static
             * @param {$protobuf.Reader|Uint8Array} reader Reader or buffer to decode from
             * @param {number} [length] Message length if known beforehand
             * @returns {tally.v1.PlatformEvent & tally.v1.PlatformEvent.$Shape} PlatformEvent
             * @throws {Error} If the payload is not a reader or valid buffer
             * @throws {$protobuf.util.ProtocolError} If required fields are missing
             */
            PlatformEvent.decode = function (reader, length, _end, _depth, _target) {
                if (!(reader instanceof $Reader))
                    reader = $Reader.create(reader);
                if (_depth === $undefined)
                    _depth = 0;
                if (_depth > $Reader.recursionLimit)
                    throw $Error("max depth exceeded");
                let end, message, value;
                if (length === $undefined)
                    end = reader.len;
                else {
                    end = reader.pos + length;
                    if (end > reader.len)
                        throw $RangeError("index out of range");
                    length = reader.len;
                    reader.len = end;
                }
                message = _target || new $root.tally.v1.PlatformEvent();
                while (reader.pos < end) {
                    let start = reader.pos;
                    let tag = reader.tag();
                    if (tag === _end) {
                        _end = $undefined;
                        break;
                    }
                    let wireType = tag & 7;
                    switch (tag >>>= 3) {
                    case 1: {
                            if (wireType !== 2)
                                break;
                            message.origin = $root.tally.v1.Origin.decode(reader, reader.size(), $undefined, _depth + 1, message.origin);
                            continue;
                        }
                    case 2: {
                            if (wireType !== 0)
                                break;
                            if (value = reader.int32())
                                message.kind = value;
                            else
                                delete message.kind;
                            continue;
                        }
                    case 3: {
                            if (wireType !== 2)
                                break;
                            if ((value = reader.stringVerify()).length)
                                message.process = value;
                            else
                                delete message.process;
                            continue;
                        }
                    case 4: {
                            if (wireType !== 2)
                                break;
                            if ((value = reader.stringVerify()).length)
                                message.description = value;
                            else
                                delete message.description;
                            continue;
                        }
                    case 5: {
                            if (wireType !== 2)
                                break;
                            if ((value = reader.stringVerify()).length)
                                message.actor = value;
                            else
                                delete message.actor;
                            continue;
                        }
                    case 15: {
                            if (wireType !== 2)
                                break;
                            if (!(message.next && message.next.length))
                                message.next = [];
                            message.next.push($root.tally.v1.PlatformEvent.decode(reader, reader.size(), $undefined, _depth + 1));
                            continue;
                        }
                    }
                    reader.skipType(wireType, _depth, tag);
                    if (!reader.discardUnknown) {
                        $util.makeProp(message, "$unknowns", false);
                        (message.$unknowns || (message.$unknowns = [])).push(reader.raw(start, reader.pos));
                    }
                }
                if (length !== $undefined) {
                    if (reader.pos !== end)
                        throw $RangeError("index out of range");
                    reader.len = length;
                }
                if (_end !== $undefined)
                    throw $Error("missing end group");
                return message;
            };

            /**
             * Verifies a PlatformEvent message.
             * @function verify
             * @memberof tally.v1.PlatformEvent
             * @static
             * @param {Object.<string,*>} message Plain object to verify
             * @returns {string|null} `null` if valid, otherwise the reason why it is not
             */
            PlatformEvent.verify = function (message, _depth) {
                if (typeof message !== "object" || message === null)
                    return "object expected";
                if (_depth === $undefined)
                    _depth = 0;
                if (_depth > $util.recursionLimit)
                    return "max depth exceeded";
                if (message.origin != null && $Object.hasOwnProperty.call(message, "origin")) {
                    let error = $root.tally.v1.Origin.verify(message.origin, _depth + 1);
                    if (error)
                        return "origin." + error;
                }
                if (message.kind != null && $Object.hasOwnProperty.call(message, "kind"))
                    if (typeof message.kind !== "number" || (message.kind | 0) !== message.kind)
                        return "kind: enum value expected";
                if (message.process != null && $Object.hasOwnProperty.call(message, "process"))
                    if (!$util.isString(message.process))
                        return "process: string expected";
                if (message.description != null && $Object.hasOwnProperty.call(message, "description"))
                    if (!$util.isString(message.description))
                        return "description: string expected";
                if (message.actor != null && $Object.hasOwnProperty.call(message, "actor"))
                    if (!$util.isString(message.actor))
                        return "actor: string expected";
                if (message.next != null && $Object.hasOwnProperty.call(message, "next")) {
                    if (!$Array.isArray(message.next))
                        return "next: array expected";
                    for (let i = 0; i < message.next.length; ++i) {
                        let error = $root.tally.v1.PlatformEvent.verify(message.next[i], _depth + 1);
                        if (error)
                            return "next." + error;
                    }
                }
                return null;
            };

            /**
             * Creates a PlatformEvent message from a plain object. Also converts values to their respective internal types.
             * @function fromObject
             * @memberof tally.v1.PlatformEvent
             * @static
             * @param {Object.<string,*>} object Plain object
             * @returns {tally.v1.PlatformEvent} PlatformEvent
             */
            PlatformEvent.fromObject = function (object, _depth) {
                if (object instanceof $root.tally.v1.PlatformEvent)
                    return object;
                if (!$util.isObject(object))
                    throw $TypeError(".tally.v1.PlatformEvent: object expected");
                if (_depth === $undefined)
                    _depth = 0;
                if (_depth > $util.recursionLimit)
                    throw $Error("max depth exceeded");
                let message = new $root.tally.v1.PlatformEvent();
                if (object.origin != null) {
                    if (!$util.isObject(object.origin))
                        throw $TypeError(".tally.v1.PlatformEvent.origin: object expected");
                    message.origin = $root.tally.v1.Origin.fromObject(object.origin, _depth + 1);
                }
                if (object.kind !== 0 && (typeof object.kind !== "string" || $root.tally.v1.EventKind[object.kind] !== 0))
                    switch (object.kind) {
                    case "EVENT_KIND_UNSPECIFIED":
                    case 0:
                        message.kind = 0;
                        break;
                    case "EVENT_KIND_STATE":
                    case 1:
                        message.kind = 1;
                        break;
                    case "EVENT_KIND_CRASH":
                    case 2:
                        message.kind = 2;
                        break;
                    case "EVENT_KIND_RESTART":
                    case 3:
                        message.kind = 3;
                        break;
                    case "EVENT_KIND_SCALE":
                    case 4:
                        message.kind = 4;
                        break;
                    case "EVENT_KIND_RELEASE":
                    case 5:
                        message.kind = 5;
                        break;
                    case "EVENT_KIND_DEPLOY":
                    case 6:
                        message.kind = 6;
                        break;
                    case "EVENT_KIND_CONFIG":
                    case 7:
                        message.kind = 7;
                        break;
                    default:
                        if (typeof object.kind === "number" && (object.kind | 0) === object.kind)
                            message.kind = object.kind;
                    }
                if (object.process != null)
                    if (typeof object.process !== "string" || object.process.length)
                        message.process = $String(object.process);
                if (object.description != null)
                    if (typeof object.description !== "string" || object.description.length)
                        message.description = $String(object.description);
                if (object.actor != null)
                    if (typeof object.actor !== "string" || object.actor.length)
                        message.actor = $String(object.actor);
                if (object.next) {
                    if (!$Array.isArray(object.next))
                        throw $TypeError(".tally.v1.PlatformEvent.next: array expected");
                    message.next = $Array(object.next.length);
                    for (let i = 0; i < object.next.length; ++i) {
                        if (!$util.isObject(object.next[i]))
                            throw $TypeError(".tally.v1.PlatformEvent.next: object expected");
                        message.next[i] = $root.tally.v1.PlatformEvent.fromObject(object.next[i], _depth + 1);
                    }
                }
                return message;
            };

            /**
             * Creates a plain object from a PlatformEvent message. Also converts values to other types if specified.
             * @function toObject
             * @memberof tally.v1.PlatformEvent
             * @static
             * @param {tally.v1.PlatformEvent} message PlatformEvent
             * @param {$protobuf.IConversionOptions} [options] Conversion options
             * @returns {Object.<string,*>} Plain object
             */
            PlatformEvent.toObject = function (message, options, _depth) {
                if (!options)
                    options = {};
                if (_depth === $undefined)
                    _depth = 0;
                if (_depth > $util.recursionLimit)
                    throw $Error("max depth exceeded");
                let object = {};
                if (options.arrays || options.defaults)
                    object.next = [];
                if (options.defaults) {
                    object.origin = null;
                    object.kind = options.enums === $String ? "EVENT_KIND_UNSPECIFIED" : 0;
                    object.process = "";
                    object.description = "";
                    object.actor = "";
                }
                if (message.origin != null && $Object.hasOwnProperty.call(message, "origin"))
                    object.origin = $root.tally.v1.Origin.toObject(message.origin, options, _depth + 1);
                if (message.kind != null && $Object.hasOwnProperty.call(message, "kind"))
                    object.kind = options.enums === $String ? $root.tally.v1.EventKind[message.kind] === $undefined ? message.kind : $root.tally.v1.EventKind[message.kind] : message.kind;
                if (message.process != null && $Object.hasOwnProperty.call(message, "process"))
                    object.process = message.process;
                if (message.description != null && $Object.hasOwnProperty.call(message, "description"))
                    object.description = message.description;
                if (message.actor != null && $Object.hasOwnProperty.call(message, "actor"))
                    object.actor = message.actor;
                if (message.next && message.next.length) {
                    object.next = $Array(message.next.length);
                    for (let j = 0; j < message.next.length; ++j)
                        object.next[j] = $root.tally.v1.PlatformEvent.toObject(message.next[j], options, _depth + 1);
                }
                return object;
            };

            /**
             * Converts this PlatformEvent to JSON.
             * @function toJSON
             * @memberof tally.v1.PlatformEvent
             * @instance
             * @returns {Object.<string,*>} JSON object
             */
            PlatformEvent.prototype.toJSON = function() {
                return PlatformEvent.toObject(this, $protobuf.util.toJSONOptions);
            };

            return PlatformEvent;
        })();

        v1.Origin = (function() {

            /**
             * Properties of an Origin.
             * @typedef {Object} tally.v1.Origin.$Properties
             * @property {string} [owner] Origin owner
             * @property {string} [processType] Origin processType
             * @property {string} [dyno] Origin dyno
             * @property {number} [timeUs] Origin timeUs
             * @property {string} [drain] Origin drain
             * @property {string} [frameId] Origin frameId
             * @property {string} [delivery] Origin delivery
             * @property {Array.<Uint8Array>} [$unknowns] Unknown fields preserved while decoding when enabled
             */

            /**
             * Properties of an Origin.
             * @memberof tally.v1
             * @interface IOrigin
             * @augments tally.v1.Origin.$Properties
             * @deprecated Use tally.v1.Origin.$Properties instead.
             */

            /**
             * Shape of an Origin.
             * @typedef {tally.v1.Origin.$Properties} tally.v1.Origin.$Shape
             */

            /**
             * Constructs a new Origin.
             * @memberof tally.v1
             * @classdesc Represents an Origin.
             * @constructor
             * @param {tally.v1.Origin.$Properties=} [properties] Properties to set
             * @property {Array.<Uint8Array>} [$unknowns] Unknown fields preserved while decoding when enabled
             */
            const Origin = function (properties) {
                if (properties)
                    for (let keys = $Object.keys(properties), i = 0; i < keys.length; ++i)
                        if (properties[keys[i]] != null && keys[i] !== "__proto__")
                            this[keys[i]] = properties[keys[i]];
            };

            /**
             * Origin owner.
             * @member {string} owner
             * @memberof tally.v1.Origin
             * @instance
             */
            Origin.prototype.owner = "";

            /**
             * Origin processType.
             * @member {string} processType
             * @memberof tally.v1.Origin
             * @instance
             */
            Origin.prototype.processType = "";

            /**
             * Origin dyno.
             * @member {string} dyno
             * @memberof tally.v1.Origin
             * @instance
             */
            Origin.prototype.dyno = "";

            /**
             * Origin timeUs.
             * @member {number} timeUs
             * @memberof tally.v1.Origin
             * @instance
             */
            Origin.prototype.timeUs = $util.Long ? $util.Long.fromBits(0,0,false) : 0;

            /**
             * Origin drain.
             * @member {string} drain
             * @memberof tally.v1.Origin
             * @instance
             */
            Origin.prototype.drain = "";

            /**
             * Origin frameId.
             * @member {string} frameId
             * @memberof tally.v1.Origin
             * @instance
             */
            Origin.prototype.frameId = "";

            /**
             * Origin delivery.
             * @member {string} delivery
             * @memberof tally.v1.Origin
             * @instance
             */
            Origin.prototype.delivery = "";

            /**
             * Creates a new Origin instance using the specified properties.
             * @function create
             * @memberof tally.v1.Origin
             * @static
             * @param {tally.v1.Origin.$Properties=} [properties] Properties to set
             * @returns {tally.v1.Origin} Origin instance
             * @type {{
             *   (properties: tally.v1.Origin.$Shape): tally.v1.Origin & tally.v1.Origin.$Shape;
             *   (properties?: tally.v1.Origin.$Properties): tally.v1.Origin;
             * }}
             */
            Origin.create = function(properties) {
                return new Origin(properties);
            };

            /**
             * Encodes the specified Origin message. Does not implicitly {@link tally.v1.Origin.verify|verify} messages.
             * @function encode
             * @memberof tally.v1.Origin
             * @static
             * @param {tally.v1.Origin.$Properties} message Origin message or plain object to encode
             * @param {$protobuf.Writer} [writer] Writer to encode to
             * @returns {$protobuf.Writer} Writer
             */
            Origin.encode = function (message, writer, _depth) {
                if (!writer)
                    writer = $Writer.create();
                if (_depth === $undefined)
                    _depth = 0;
                if (_depth > $util.recursionLimit)
                    throw $Error("max depth exceeded");
                if (message.owner != null && $Object.hasOwnProperty.call(message, "owner") && message.owner !== "")
                    writer.uint32(/* id 1, wireType 2 =*/10).string(message.owner);
                if (message.processType != null && $Object.hasOwnProperty.call(message, "processType") && message.processType !== "")
                    writer.uint32(/* id 2, wireType 2 =*/18).string(message.processType);
                if (message.dyno != null && $Object.hasOwnProperty.call(message, "dyno") && message.dyno !== "")
                    writer.uint32(/* id 3, wireType 2 =*/26).string(message.dyno);
                if (message.timeUs != null && $Object.hasOwnProperty.call(message, "timeUs") && (typeof message.timeUs === "object" ? message.timeUs.low || message.timeUs.high : message.timeUs !== 0))
                    writer.uint32(/* id 4, wireType 0 =*/32).int64(message.timeUs);
                if (message.drain != null && $Object.hasOwnProperty.call(message, "drain") && message.drain !== "")
                    writer.uint32(/* id 5, wireType 2 =*/42).string(message.drain);
                if (message.frameId != null && $Object.hasOwnProperty.call(message, "frameId") && message.frameId !== "")
                    writer.uint32(/* id 6, wireType 2 =*/50).string(message.frameId);
                if (message.delivery != null && $Object.hasOwnProperty.call(message, "delivery") && message.delivery !== "")
                    writer.uint32(/* id 7, wireType 2 =*/58).string(message.delivery);
                if (message.$unknowns != null && $Object.hasOwnProperty.call(message, "$unknowns"))
                    for (let i = 0; i < message.$unknowns.length; ++i)
                        writer.raw(message.$unknowns[i]);
                return writer;
            };

            /**
             * Decodes an Origin message from the specified reader or buffer.
             * @function decode
             * @memberof tally.v1.Origin
             * @static
             * @param {$protobuf.Reader|Uint8Array} reader Reader or buffer to decode from
             * @param {number} [length] Message length if known beforehand
             * @returns {tally.v1.Origin & tally.v1.Origin.$Shape} Origin
             * @throws {Error} If the payload is not a reader or valid buffer
             * @throws {$protobuf.util.ProtocolError} If required fields are missing
             */
            Origin.decode = function (reader, length, _end, _depth, _target) {
                if (!(reader instanceof $Reader))
                    reader = $Reader.create(reader);
                if (_depth === $undefined)
                    _depth = 0;
                if (_depth > $Reader.recursionLimit)
                    throw $Error("max depth exceeded");
                let end, message, value;
                if (length === $undefined)
                    end = reader.len;
                else {
                    end = reader.pos + length;
                    if (end > reader.len)
                        throw $RangeError("index out of range");
                    length = reader.len;
                    reader.len = end;
                }
                message = _target || new $root.tally.v1.Origin();
                while (reader.pos < end) {
                    let start = reader.pos;
                    let tag = reader.tag();
                    if (tag === _end) {
                        _end = $undefined;
                        break;
                    }
                    let wireType = tag & 7;
                    switch (tag >>>= 3) {
                    case 1: {
                            if (wireType !== 2)
                                break;
                            if ((value = reader.stringVerify()).length)
                                message.owner = value;
                            else
                                delete message.owner;
                            continue;
                        }
                    case 2: {
                            if (wireType !== 2)
                                break;
                            if ((value = reader.stringVerify()).length)
                                message.processType = value;
                            else
                                delete message.processType;
                            continue;
                        }
                    case 3: {
                            if (wireType !== 2)
                                break;
                            if ((value = reader.stringVerify()).length)
                                message.dyno = value;
                            else
                                delete message.dyno;
                            continue;
                        }
                    case 4: {
                            if (wireType !== 0)
                                break;
                            if (typeof (value = reader.int64()) === "object" ? value.low || value.high : value !== 0)
                                message.timeUs = value;
                            else
                                delete message.timeUs;
                            continue;
                        }
                    case 5: {
                            if (wireType !== 2)
                                break;
                            if ((value = reader.stringVerify()).length)
                                message.drain = value;
                            else
                                delete message.drain;
                            continue;
                        }
                    case 6: {
                            if (wireType !== 2)
                                break;
                            if ((value = reader.stringVerify()).length)
                                message.frameId = value;
                            else
                                delete message.frameId;
                            continue;
                        }
                    case 7: {
                            if (wireType !== 2)
                                break;
                            if ((value = reader.stringVerify()).length)
                                message.delivery = value;
                            else
                                delete message.delivery;
                            continue;
                        }
                    }
                    reader.skipType(wireType, _depth, tag);
                    if (!reader.discardUnknown) {
                        $util.makeProp(message, "$unknowns", false);
                        (message.$unknowns || (message.$unknowns = [])).push(reader.raw(start, reader.pos));
                    }
                }
                if (length !== $undefined) {
                    if (reader.pos !== end)
                        throw $RangeError("index out of range");
                    reader.len = length;
                }
                if (_end !== $undefined)
                    throw $Error("missing end group");
                return message;
            };

            /**
             * Verifies an Origin message.
             * @function verify
             * @memberof tally.v1.Origin
             * @static
             * @param {Object.<string,*>} message Plain object to verify
             * @returns {string|null} `null` if valid, otherwise the reason why it is not
             */
            Origin.verify = function (message, _depth) {
                if (typeof message !== "object" || message === null)
                    return "object expected";
                if (_depth === $undefined)
                    _depth = 0;
                if (_depth > $util.recursionLimit)
                    return "max depth exceeded";
                if (message.owner != null && $Object.hasOwnProperty.call(message, "owner"))
                    if (!$util.isString(message.owner))
                        return "owner: string expected";
                if (message.processType != null && $Object.hasOwnProperty.call(message, "processType"))
                    if (!$util.isString(message.processType))
                        return "processType: string expected";
                if (message.dyno != null && $Object.hasOwnProperty.call(message, "dyno"))
                    if (!$util.isString(message.dyno))
                        return "dyno: string expected";
                if (message.timeUs != null && $Object.hasOwnProperty.call(message, "timeUs"))
                    if (!$util.isInteger(message.timeUs) && !(message.timeUs && $util.isInteger(message.timeUs.low) && $util.isInteger(message.timeUs.high)))
                        return "timeUs: integer|Long expected";
                if (message.drain != null && $Object.hasOwnProperty.call(message, "drain"))
                    if (!$util.isString(message.drain))
                        return "drain: string expected";
                if (message.frameId != null && $Object.hasOwnProperty.call(message, "frameId"))
                    if (!$util.isString(message.frameId))
                        return "frameId: string expected";
                if (message.delivery != null && $Object.hasOwnProperty.call(message, "delivery"))
                    if (!$util.isString(message.delivery))
                        return "delivery: string expected";
                return null;
            };

            /**
             * Creates an Origin message from a plain object. Also converts values to their respective internal types.
             * @function fromObject
             * @memberof tally.v1.Origin
             * @static
             * @param {Object.<string,*>} object Plain object
             * @returns {tally.v1.Origin} Origin
             */
            Origin.fromObject = function (object, _depth) {
                if (object instanceof $root.tally.v1.Origin)
                    return object;
                if (!$util.isObject(object))
                    throw $TypeError(".tally.v1.Origin: object expected");
                if (_depth === $undefined)
                    _depth = 0;
                if (_depth > $util.recursionLimit)
                    throw $Error("max depth exceeded");
                let message = new $root.tally.v1.Origin();
                if (object.owner != null)
                    if (typeof object.owner !== "string" || object.owner.length)
                        message.owner = $String(object.owner);
                if (object.processType != null)
                    if (typeof object.processType !== "string" || object.processType.length)
                        message.processType = $String(object.processType);
                if (object.dyno != null)
                    if (typeof object.dyno !== "string" || object.dyno.length)
                        message.dyno = $String(object.dyno);
                if (object.timeUs != null)
                    if (typeof object.timeUs === "object" ? object.timeUs.low || object.timeUs.high : $Number(object.timeUs) !== 0)
                        if ($util.Long)
                            message.timeUs = $util.Long.fromValue(object.timeUs, false);
                        else if (typeof object.timeUs === "string")
                            message.timeUs = $parseInt(object.timeUs, 10);
                        else if (typeof object.timeUs === "number")
                            message.timeUs = object.timeUs;
                        else if (typeof object.timeUs === "object")
                            message.timeUs = new $util.LongBits(object.timeUs.low >>> 0, object.timeUs.high >>> 0).toNumber();
                if (object.drain != null)
                    if (typeof object.drain !== "string" || object.drain.length)
                        message.drain = $String(object.drain);
                if (object.frameId != null)
                    if (typeof object.frameId !== "string" || object.frameId.length)
                        message.frameId = $String(object.frameId);
                if (object.delivery != null)
                    if (typeof object.delivery !== "string" || object.delivery.length)
                        message.delivery = $String(object.delivery);
                return message;
            };

            /**
             * Creates a plain object from an Origin message. Also converts values to other types if specified.
             * @function toObject
             * @memberof tally.v1.Origin
             * @static
             * @param {tally.v1.Origin} message Origin
             * @param {$protobuf.IConversionOptions} [options] Conversion options
             * @returns {Object.<string,*>} Plain object
             */
            Origin.toObject = function (message, options, _depth) {
                if (!options)
                    options = {};
                if (_depth === $undefined)
                    _depth = 0;
                if (_depth > $util.recursionLimit)
                    throw $Error("max depth exceeded");
                let object = {};
                if (options.defaults) {
                    object.owner = "";
                    object.processType = "";
                    object.dyno = "";
                    if ($util.Long) {
                        let long = new $util.Long(0, 0, false);
                        object.timeUs = options.longs === $String ? long.toString() : options.longs === $Number ? long.toNumber() : typeof $BigInt !== "undefined" && options.longs === $BigInt ? long.toBigInt() : long;
                    } else
                        object.timeUs = options.longs === $String ? "0" : typeof $BigInt !== "undefined" && options.longs === $BigInt ? $BigInt("0") : 0;
                    object.drain = "";
                    object.frameId = "";
                    object.delivery = "";
                }
                if (message.owner != null && $Object.hasOwnProperty.call(message, "owner"))
                    object.owner = message.owner;
                if (message.processType != null && $Object.hasOwnProperty.call(message, "processType"))
                    object.processType = message.processType;
                if (message.dyno != null && $Object.hasOwnProperty.call(message, "dyno"))
                    object.dyno = message.dyno;
                if (message.timeUs != null && $Object.hasOwnProperty.call(message, "timeUs"))
                    if (typeof $BigInt !== "undefined" && options.longs === $BigInt)
                        object.timeUs = typeof message.timeUs === "number" ? $BigInt(message.timeUs) : $util.Long.fromBits(message.timeUs.low >>> 0, message.timeUs.high >>> 0, false).toBigInt();
                    else if (typeof message.timeUs === "number")
                        object.timeUs = options.longs === $String ? $String(message.timeUs) : message.timeUs;
                    else
                        object.timeUs = options.longs === $String ? $util.Long.prototype.toString.call(message.timeUs) : options.longs === $Number ? new $util.LongBits(message.timeUs.low >>> 0, message.timeUs.high >>> 0).toNumber() : message.timeUs;
                if (message.drain != null && $Object.hasOwnProperty.call(message, "drain"))
                    object.drain = message.drain;
                if (message.frameId != null && $Object.hasOwnProperty.call(message, "frameId"))
                    object.frameId = message.frameId;
                if (message.delivery != null && $Object.hasOwnProperty.call(message, "delivery"))
                    object.delivery = message.delivery;
                return object;
            };

            /**
             * Converts this Origin to JSON.
             * @function toJSON
             * @memberof tally.v1.Origin
             * @instance
             * @returns {Object.<string,*>} JSON object
             */
            Origin.prototype.toJSON = function() {
                return Origin.toObject(this, $protobuf.util.toJSONOptions);
            };

            return Origin;
        })();

        v1.DynoMemory = (function() {

            /**
             * Properties of a DynoMemory.
             * @typedef {Object} tally.v1.DynoMemory.$Properties
             * @property {tally.v1.Origin.$Properties} [origin] DynoMemory origin
             * @property {number|null} [memoryTotal] DynoMemory memoryTotal
             * @property {number|null} [memoryRss] DynoMemory memoryRss
             * @property {number|null} [memoryCache] DynoMemory memoryCache
             * @property {number|null} [memorySwap] DynoMemory memorySwap
             * @property {number|null} [memoryPgpgin] DynoMemory memoryPgpgin
             * @property {number|null} [memoryPgpgout] DynoMemory memoryPgpgout
             * @property {number|null} [memoryQuota] DynoMemory memoryQuota
             * @property {Array.<tally.v1.DynoMemory.$Properties>} [next] DynoMemory next
             * @property {Array.<Uint8Array>} [$unknowns] Unknown fields preserved while decoding when enabled
             */

            /**
             * Properties of a DynoMemory.
             * @memberof tally.v1
             * @interface IDynoMemory
             * @augments tally.v1.DynoMemory.$Properties
             * @deprecated Use tally.v1.DynoMemory.$Properties instead.
             */

            /**
             * Shape of a DynoMemory.
             * @typedef {tally.v1.DynoMemory.$Properties} tally.v1.DynoMemory.$Shape
             */

            /**
             * Constructs a new DynoMemory.
             * @memberof tally.v1
             * @classdesc Represents a DynoMemory.
             * @constructor
             * @param {tally.v1.DynoMemory.$Properties=} [properties] Properties to set
             * @property {Array.<Uint8Array>} [$unknowns] Unknown fields preserved while decoding when enabled
             */
            const DynoMemory = function (properties) {
                this.next = [];
                if (properties)
                    for (let keys = $Object.keys(properties), i = 0; i < keys.length; ++i)
                        if (properties[keys[i]] != null && keys[i] !== "__proto__")
                            this[keys[i]] = properties[keys[i]];
            };

            /**
             * DynoMemory origin.
             * @member {tally.v1.Origin} origin
             * @memberof tally.v1.DynoMemory
             * @instance
             */
            DynoMemory.prototype.origin = null;

            /**
             * DynoMemory memoryTotal.
             * @member {number|null} memoryTotal
             * @memberof tally.v1.DynoMemory
             * @instance
             */
            DynoMemory.prototype.memoryTotal = null;

            /**
             * DynoMemory memoryRss.
             * @member {number|null} memoryRss
             * @memberof tally.v1.DynoMemory
             * @instance
             */
            DynoMemory.prototype.memoryRss = null;

            /**
             * DynoMemory memoryCache.
             * @member {number|null} memoryCache
             * @memberof tally.v1.DynoMemory
             * @instance
             */
            DynoMemory.prototype.memoryCache = null;

            /**
             * DynoMemory memorySwap.
             * @member {number|null} memorySwap
             * @memberof tally.v1.DynoMemory
             * @instance
             */
            DynoMemory.prototype.memorySwap = null;

            /**
             * DynoMemory memoryPgpgin.
             * @member {number|null} memoryPgpgin
             * @memberof tally.v1.DynoMemory
             * @instance
             */
            DynoMemory.prototype.memoryPgpgin = null;

            /**
             * DynoMemory memoryPgpgout.
             * @member {number|null} memoryPgpgout
             * @memberof tally.v1.DynoMemory
             * @instance
             */
            DynoMemory.prototype.memoryPgpgout = null;

            /**
             * DynoMemory memoryQuota.
             * @member {number|null} memoryQuota
             * @memberof tally.v1.DynoMemory
             * @instance
             */
            DynoMemory.prototype.memoryQuota = null;

            /**
             * DynoMemory next.
             * @member {Array.<tally.v1.DynoMemory>} next
             * @memberof tally.v1.DynoMemory
             * @instance
             */
            DynoMemory.prototype.next = $util.emptyArray;

            // OneOf field names bound to virtual getters and setters
            let $oneOfFields;

            // Virtual OneOf for proto3 optional field
            $Object.defineProperty(DynoMemory.prototype, "_memoryTotal", {
                get: $util.oneOfGetter($oneOfFields = ["memoryTotal"]),
                set: $util.oneOfSetter($oneOfFields)
            });

            // Virtual OneOf for proto3 optional field
            $Object.defineProperty(DynoMemory.prototype, "_memoryRss", {
                get: $util.oneOfGetter($oneOfFields = ["memoryRss"]),
                set: $util.oneOfSetter($oneOfFields)
            });

            // Virtual OneOf for proto3 optional field
            $Object.defineProperty(DynoMemory.prototype, "_memoryCache", {
                get: $util.oneOfGetter($oneOfFields = ["memoryCache"]),
                set: $util.oneOfSetter($oneOfFields)
            });

            // Virtual OneOf for proto3 optional field
            $Object.defineProperty(DynoMemory.prototype, "_memorySwap", {
                get: $util.oneOfGetter($oneOfFields = ["memorySwap"]),
                set: $util.oneOfSetter($oneOfFields)
            });

            // Virtual OneOf for proto3 optional field
            $Object.defineProperty(DynoMemory.prototype, "_memoryPgpgin", {
                get: $util.oneOfGetter($oneOfFields = ["memoryPgpgin"]),
                set: $util.oneOfSetter($oneOfFields)
            });

            // Virtual OneOf for proto3 optional field
            $Object.defineProperty(DynoMemory.prototype, "_memoryPgpgout", {
                get: $util.oneOfGetter($oneOfFields = ["memoryPgpgout"]),
                set: $util.oneOfSetter($oneOfFields)
            });

            // Virtual OneOf for proto3 optional field
            $Object.defineProperty(DynoMemory.prototype, "_memoryQuota", {
                get: $util.oneOfGetter($oneOfFields = ["memoryQuota"]),
                set: $util.oneOfSetter($oneOfFields)
            });

            /**
             * Creates a new DynoMemory instance using the specified properties.
             * @function create
             * @memberof tally.v1.DynoMemory
             * @static
             * @param {tally.v1.DynoMemory.$Properties=} [properties] Properties to set
             * @returns {tally.v1.DynoMemory} DynoMemory instance
             * @type {{
             *   (properties: tally.v1.DynoMemory.$Shape): tally.v1.DynoMemory & tally.v1.DynoMemory.$Shape;
             *   (properties?: tally.v1.DynoMemory.$Properties): tally.v1.DynoMemory;
             * }}
             */
            DynoMemory.create = function(properties) {
                return new DynoMemory(properties);
            };

            /**
             * Encodes the specified DynoMemory message. Does not implicitly {@link tally.v1.DynoMemory.verify|verify} messages.
             * @function encode
             * @memberof tally.v1.DynoMemory
             * @static
             * @param {tally.v1.DynoMemory.$Properties} message DynoMemory message or plain object to encode
             * @param {$protobuf.Writer} [writer] Writer to encode to
             * @returns {$protobuf.Writer} Writer
             */
            DynoMemory.encode = function (message, writer, _depth) {
                if (!writer)
                    writer = $Writer.create();
                if (_depth === $undefined)
                    _depth = 0;
                if (_depth > $util.recursionLimit)
                    throw $Error("max depth exceeded");
                if (message.origin != null && $Object.hasOwnProperty.call(message, "origin"))
                    $root.tally.v1.Origin.encode(message.origin, writer.uint32(/* id 1, wireType 2 =*/10).fork(), _depth + 1).ldelim();
                if (message.memoryTotal != null && $Object.hasOwnProperty.call(message, "memoryTotal"))
                    writer.uint32(/* id 2, wireType 1 =*/17).double(message.memoryTotal);
                if (message.memoryRss != null && $Object.hasOwnProperty.call(message, "memoryRss"))
                    writer.uint32(/* id 3, wireType 1 =*/25).double(message.memoryRss);
                if (message.memoryCache != null && $Object.hasOwnProperty.call(message, "memoryCache"))
                    writer.uint32(/* id 4, wireType 1 =*/33).double(message.memoryCache);
                if (message.memorySwap != null && $Object.hasOwnProperty.call(message, "memorySwap"))
                    writer.uint32(/* id 5, wireType 1 =*/41).double(message.memorySwap);
                if (message.memoryPgpgin != null && $Object.hasOwnProperty.call(message, "memoryPgpgin"))
                    writer.uint32(/* id 6, wireType 1 =*/49).double(message.memoryPgpgin);
                if (message.memoryPgpgout != null && $Object.hasOwnProperty.call(message, "memoryPgpgout"))
                    writer.uint32(/* id 7, wireType 1 =*/57).double(message.memoryPgpgout);
                if (message.memoryQuota != null && $Object.hasOwnProperty.call(message, "memoryQuota"))
                    writer.uint32(/* id 8, wireType 1 =*/65).double(message.memoryQuota);
                if (message.next != null && message.next.length)
                    for (let i = 0; i < message.next.length; ++i)
                        $root.tally.v1.DynoMemory.encode(message.next[i], writer.uint32(/* id 15, wireType 2 =*/122).fork(), _depth + 1).ldelim();
                if (message.$unknowns != null && $Object.hasOwnProperty.call(message, "$unknowns"))
                    for (let i = 0; i < message.$unknowns.length; ++i)
                        writer.raw(message.$unknowns[i]);
                return writer;
            };

            /**
             * Decodes a DynoMemory message from the specified reader or buffer.
             * @function decode
             * @memberof tally.v1.DynoMemory
             * @static
             * @param {$protobuf.Reader|Uint8Array} reader Reader or buffer to decode from
             * @param {number} [length] Message length if known beforehand
             * @returns {tally.v1.DynoMemory & tally.v1.DynoMemory.$Shape} DynoMemory
             * @throws {Error} If the payload is not a reader or valid buffer
             * @throws {$protobuf.util.ProtocolError} If required fields are missing
             */
            DynoMemory.decode = function (reader, length, _end, _depth, _target) {
                if (!(reader instanceof $Reader))
                    reader = $Reader.create(reader);
                if (_depth === $undefined)
                    _depth = 0;
                if (_depth > $Reader.recursionLimit)
                    throw $Error("max depth exceeded");
                let end, message, value;
                if (length === $undefined)
                    end = reader.len;
                else {
                    end = reader.pos + length;
                    if (end > reader.len)
                        throw $RangeError("index out of range");
                    length = reader.len;
                    reader.len = end;
                }
                message = _target || new $root.tally.v1.DynoMemory();
                while (reader.pos < end) {
                    let start = reader.pos;
                    let tag = reader.tag();
                    if (tag === _end) {
                        _end = $undefined;
                        break;
                    }
                    let wireType = tag & 7;
                    switch (tag >>>= 3) {
                    case 1: {
                            if (wireType !== 2)
                                break;
                            message.origin = $root.tally.v1.Origin.decode(reader, reader.size(), $undefined, _depth + 1, message.origin);
                            continue;
                        }
                    case 2: {
                            if (wireType !== 1)
                                break;
                            message.memoryTotal = reader.double();
                            message._memoryTotal = "memoryTotal";
                            continue;
                        }
                    case 3: {
                            if (wireType !== 1)
                                break;
                            message.memoryRss = reader.double();
                            message._memoryRss = "memoryRss";
                            continue;
                        }
                    case 4: {
                            if (wireType !== 1)
                                break;
                            message.memoryCache = reader.double();
                            message._memoryCache = "memoryCache";
                            continue;
                        }
                    case 5: {
                            if (wireType !== 1)
                                break;
                            message.memorySwap = reader.double();
                            message._memorySwap = "memorySwap";
                            continue;
                        }
                    case 6: {
                            if (wireType !== 1)
                                break;
                            message.memoryPgpgin = reader.double();
                            message._memoryPgpgin = "memoryPgpgin";
                            continue;
                        }
                    case 7: {
                            if (wireType !== 1)
                                break;
                            message.memoryPgpgout = reader.double();
                            message._memoryPgpgout = "memoryPgpgout";
                            continue;
                        }
                    case 8: {
                            if (wireType !== 1)
                                break;
                            message.memoryQuota = reader.double();
                            message._memoryQuota = "memoryQuota";
                            continue;
                        }
                    case 15: {
                            if (wireType !== 2)
                                break;
                            if (!(message.next && message.next.length))
                                message.next = [];
                            message.next.push($root.tally.v1.DynoMemory.decode(reader, reader.size(), $undefined, _depth + 1));
                            continue;
                        }
                    }
                    reader.skipType(wireType, _depth, tag);
                    if (!reader.discardUnknown) {
                        $util.makeProp(message, "$unknowns", false);
                        (message.$unknowns || (message.$unknowns = [])).push(reader.raw(start, reader.pos));
                    }
                }
                if (length !== $undefined) {
                    if (reader.pos !== end)
                        throw $RangeError("index out of range");
                    reader.len = length;
                }
                if (_end !== $undefined)
                    throw $Error("missing end group");
                return message;
            };

            /**
             * Verifies a DynoMemory message.
             * @function verify
             * @memberof tally.v1.DynoMemory
             * @static
             * @param {Object.<string,*>} message Plain object to verify
             * @returns {string|null} `null` if valid, otherwise the reason why it is not
             */
            DynoMemory.verify = function (message, _depth) {
                if (typeof message !== "object" || message === null)
                    return "object expected";
                if (_depth === $undefined)
                    _depth = 0;
                if (_depth > $util.recursionLimit)
                    return "max depth exceeded";
                let properties = {};
                if (message.origin != null && $Object.hasOwnProperty.call(message, "origin")) {
                    let error = $root.tally.v1.Origin.verify(message.origin, _depth + 1);
                    if (error)
                        return "origin." + error;
                }
                if (message.memoryTotal != null && $Object.hasOwnProperty.call(message, "memoryTotal")) {
                    properties._memoryTotal = 1;
                    if (typeof message.memoryTotal !== "number")
                        return "memoryTotal: number expected";
                }
                if (message.memoryRss != null && $Object.hasOwnProperty.call(message, "memoryRss")) {
                    properties._memoryRss = 1;
                    if (typeof message.memoryRss !== "number")
                        return "memoryRss: number expected";
                }
                if (message.memoryCache != null && $Object.hasOwnProperty.call(message, "memoryCache")) {
                    properties._memoryCache = 1;
                    if (typeof message.memoryCache !== "number")
                        return "memoryCache: number expected";
                }
                if (message.memorySwap != null && $Object.hasOwnProperty.call(message, "memorySwap")) {
                    properties._memorySwap = 1;
                    if (typeof message.memorySwap !== "number")
                        return "memorySwap: number expected";
                }
                if (message.memoryPgpgin != null && $Object.hasOwnProperty.call(message, "memoryPgpgin")) {
                    properties._memoryPgpgin = 1;
                    if (typeof message.memoryPgpgin !== "number")
                        return "memoryPgpgin: number expected";
                }
                if (message.memoryPgpgout != null && $Object.hasOwnProperty.call(message, "memoryPgpgout")) {
                    properties._memoryPgpgout = 1;
                    if (typeof message.memoryPgpgout !== "number")
                        return "memoryPgpgout: number expected";
                }
                if (message.memoryQuota != null && $Object.hasOwnProperty.call(message, "memoryQuota")) {
                    properties._memoryQuota = 1;
                    if (typeof message.memoryQuota !== "number")
                        return "memoryQuota: number expected";
                }
                if (message.next != null && $Object.hasOwnProperty.call(message, "next")) {
                    if (!$Array.isArray(message.next))
                        return "next: array expected";
                    for (let i = 0; i < message.next.length; ++i) {
                        let error = $root.tally.v1.DynoMemory.verify(message.next[i], _depth + 1);
                        if (error)
                            return "next." + error;
                    }
                }
                return null;
            };

            /**
             * Creates a DynoMemory message from a plain object. Also converts values to their respective internal types.
             * @function fromObject
             * @memberof tally.v1.DynoMemory
             * @static
             * @param {Object.<string,*>} object Plain object
             * @returns {tally.v1.DynoMemory} DynoMemory
             */
            DynoMemory.fromObject = function (object, _depth) {
                if (object instanceof $root.tally.v1.DynoMemory)
                    return object;
                if (!$util.isObject(object))
                    throw $TypeError(".tally.v1.DynoMemory: object expected");
                if (_depth === $undefined)
                    _depth = 0;
                if (_depth > $util.recursionLimit)
                    throw $Error("max depth exceeded");
                let message = new $root.tally.v1.DynoMemory();
                if (object.origin != null) {
                    if (!$util.isObject(object.origin))
                        throw $TypeError(".tally.v1.DynoMemory.origin: object expected");
                    message.origin = $root.tally.v1.Origin.fromObject(object.origin, _depth + 1);
                }
                if (object.memoryTotal != null)
                    message.memoryTotal = $Number(object.memoryTotal);
                if (object.memoryRss != null)
                    message.memoryRss = $Number(object.memoryRss);
                if (object.memoryCache != null)
                    message.memoryCache = $Number(object.memoryCache);
                if (object.memorySwap != null)
                    message.memorySwap = $Number(object.memorySwap);
                if (object.memoryPgpgin != null)
                    message.memoryPgpgin = $Number(object.memoryPgpgin);
                if (object.memoryPgpgout != null)
                    message.memoryPgpgout = $Number(object.memoryPgpgout);
                if (object.memoryQuota != null)
                    message.memoryQuota = $Number(object.memoryQuota);
                if (object.next) {
                    if (!$Array.isArray(object.next))
                        throw $TypeError(".tally.v1.DynoMemory.next: array expected");
                    message.next = $Array(object.next.length);
                    for (let i = 0; i < object.next.length; ++i) {
                        if (!$util.isObject(object.next[i]))
                            throw $TypeError(".tally.v1.DynoMemory.next: object expected");
                        message.next[i] = $root.tally.v1.DynoMemory.fromObject(object.next[i], _depth + 1);
                    }
                }
                return message;
            };

            /**
             * Creates a plain object from a DynoMemory message. Also converts values to other types if specified.
             * @function toObject
             * @memberof tally.v1.DynoMemory
             * @static
             * @param {tally.v1.DynoMemory} message DynoMemory
             * @param {$protobuf.IConversionOptions} [options] Conversion options
             * @returns {Object.<string,*>} Plain object
             */
            DynoMemory.toObject = function (message, options, _depth) {
                if (!options)
                    options = {};
                if (_depth === $undefined)
                    _depth = 0;
                if (_depth > $util.recursionLimit)
                    throw $Error("max depth exceeded");
                let object = {};
                if (options.arrays || options.defaults)
                    object.next = [];
                if (options.defaults)
                    object.origin = null;
                if (message.origin != null && $Object.hasOwnProperty.call(message, "origin"))
                    object.origin = $root.tally.v1.Origin.toObject(message.origin, options, _depth + 1);
                if (message.memoryTotal != null && $Object.hasOwnProperty.call(message, "memoryTotal"))
                    object.memoryTotal = options.json && !$isFinite(message.memoryTotal) ? $String(message.memoryTotal) : message.memoryTotal;
                if (message.memoryRss != null && $Object.hasOwnProperty.call(message, "memoryRss"))
                    object.memoryRss = options.json && !$isFinite(message.memoryRss) ? $String(message.memoryRss) : message.memoryRss;
                if (message.memoryCache != null && $Object.hasOwnProperty.call(message, "memoryCache"))
                    object.memoryCache = options.json && !$isFinite(message.memoryCache) ? $String(message.memoryCache) : message.memoryCache;
                if (message.memorySwap != null && $Object.hasOwnProperty.call(message, "memorySwap"))
                    object.memorySwap = options.json && !$isFinite(message.memorySwap) ? $String(message.memorySwap) : message.memorySwap;
                if (message.memoryPgpgin != null && $Object.hasOwnProperty.call(message, "memoryPgpgin"))
                    object.memoryPgpgin = options.json && !$isFinite(message.memoryPgpgin) ? $String(message.memoryPgpgin) : message.memoryPgpgin;
                if (message.memoryPgpgout != null && $Object.hasOwnProperty.call(message, "memoryPgpgout"))
                    object.memoryPgpgout = options.json && !$isFinite(message.memoryPgpgout) ? $String(message.memoryPgpgout) : message.memoryPgpgout;
                if (message.memoryQuota != null && $Object.hasOwnProperty.call(message, "memoryQuota"))
                    object.memoryQuota = options.json && !$isFinite(message.memoryQuota) ? $String(message.memoryQuota) : message.memoryQuota;
                if (message.next && message.next.length) {
                    object.next = $Array(message.next.length);
                    for (let j = 0; j < message.next.length; ++j)
                        object.next[j] = $root.tally.v1.DynoMemory.toObject(message.next[j], options, _depth + 1);
                }
                return object;
            };

            /**
             * Converts this DynoMemory to JSON.
             * @function toJSON
             * @memberof tally.v1.DynoMemory
             * @instance
             * @returns {Object.<string,*>} JSON object
             */
            DynoMemory.prototype.toJSON = function() {
                return DynoMemory.toObject(this, $protobuf.util.toJSONOptions);
            };

            return DynoMemory;
        })();

        v1.DynoLoad = (function() {

            /**
             * Properties of a DynoLoad.
             * @typedef {Object} tally.v1.DynoLoad.$Properties
             * @property {tally.v1.Origin.$Properties} [origin] DynoLoad origin
             * @property {number|null} [loadAvg_1m] DynoLoad loadAvg_1m
             * @property {number|null} [loadAvg_5m] DynoLoad loadAvg_5m
             * @property {number|null} [loadAvg_15m] DynoLoad loadAvg_15m
             * @property {Array.<tally.v1.DynoLoad.$Properties>} [next] DynoLoad next
             * @property {Array.<Uint8Array>} [$unknowns] Unknown fields preserved while decoding when enabled
             */

            /**
             * Properties of a DynoLoad.
             * @memberof tally.v1
             * @interface IDynoLoad
             * @augments tally.v1.DynoLoad.$Properties
             * @deprecated Use tally.v1.DynoLoad.$Properties instead.
             */

            /**
             * Shape of a DynoLoad.
             * @typedef {tally.v1.DynoLoad.$Properties} tally.v1.DynoLoad.$Shape
             */

            /**
             * Constructs a new DynoLoad.
             * @memberof tally.v1
             * @classdesc Represents a DynoLoad.
             * @constructor
             * @param {tally.v1.DynoLoad.$Properties=} [properties] Properties to set
             * @property {Array.<Uint8Array>} [$unknowns] Unknown fields preserved while decoding when enabled
             */
            const DynoLoad = function (properties) {
                this.next = [];
                if (properties)
                    for (let keys = $Object.keys(properties), i = 0; i < keys.length; ++i)
                        if (properties[keys[i]] != null && keys[i] !== "__proto__")
                            this[keys[i]] = properties[keys[i]];
            };

            /**
             * DynoLoad origin.
             * @member {tally.v1.Origin} origin
             * @memberof tally.v1.DynoLoad
             * @instance
             */
            DynoLoad.prototype.origin = null;

            /**
             * DynoLoad loadAvg_1m.
             * @member {number|null} loadAvg_1m
             * @memberof tally.v1.DynoLoad
             * @instance
             */
            DynoLoad.prototype.loadAvg_1m = null;

            /**
             * DynoLoad loadAvg_5m.
             * @member {number|null} loadAvg_5m
             * @memberof tally.v1.DynoLoad
             * @instance
             */
            DynoLoad.prototype.loadAvg_5m = null;

            /**
             * DynoLoad loadAvg_15m.
             * @member {number|null} loadAvg_15m
             * @memberof tally.v1.DynoLoad
             * @instance
             */
            DynoLoad.prototype.loadAvg_15m = null;

            /**
             * DynoLoad next.
             * @member {Array.<tally.v1.DynoLoad>} next
             * @memberof tally.v1.DynoLoad
             * @instance
             */
            DynoLoad.prototype.next = $util.emptyArray;

            // OneOf field names bound to virtual getters and setters
            let $oneOfFields;

            // Virtual OneOf for proto3 optional field
            $Object.defineProperty(DynoLoad.prototype, "_loadAvg_1m", {
                get: $util.oneOfGetter($oneOfFields = ["loadAvg_1m"]),
                set: $util.oneOfSetter($oneOfFields)
            });

            // Virtual OneOf for proto3 optional field
            $Object.defineProperty(DynoLoad.prototype, "_loadAvg_5m", {
                get: $util.oneOfGetter($oneOfFields = ["loadAvg_5m"]),
                set: $util.oneOfSetter($oneOfFields)
            });

            // Virtual OneOf for proto3 optional field
            $Object.defineProperty(DynoLoad.prototype, "_loadAvg_15m", {
                get: $util.oneOfGetter($oneOfFields = ["loadAvg_15m"]),
                set: $util.oneOfSetter($oneOfFields)
            });

            /**
             * Creates a new DynoLoad instance using the specified properties.
             * @function create
             * @memberof tally.v1.DynoLoad
             * @static
             * @param {tally.v1.DynoLoad.$Properties=} [properties] Properties to set
             * @returns {tally.v1.DynoLoad} DynoLoad instance
             * @type {{
             *   (properties: tally.v1.DynoLoad.$Shape): tally.v1.DynoLoad & tally.v1.DynoLoad.$Shape;
             *   (properties?: tally.v1.DynoLoad.$Properties): tally.v1.DynoLoad;
             * }}
             */
            DynoLoad.create = function(properties) {
                return new DynoLoad(properties);
            };

            /**
             * Encodes the specified DynoLoad message. Does not implicitly {@link tally.v1.DynoLoad.verify|verify} messages.
             * @function encode
             * @memberof tally.v1.DynoLoad
             * @static
             * @param {tally.v1.DynoLoad.$Properties} message DynoLoad message or plain object to encode
             * @param {$protobuf.Writer} [writer] Writer to encode to
             * @returns {$protobuf.Writer} Writer
             */
            DynoLoad.encode = function (message, writer, _depth) {
                if (!writer)
                    writer = $Writer.create();
                if (_depth === $undefined)
                    _depth = 0;
                if (_depth > $util.recursionLimit)
                    throw $Error("max depth exceeded");
                if (message.origin != null && $Object.hasOwnProperty.call(message, "origin"))
                    $root.tally.v1.Origin.encode(message.origin, writer.uint32(/* id 1, wireType 2 =*/10).fork(), _depth + 1).ldelim();
                if (message.loadAvg_1m != null && $Object.hasOwnProperty.call(message, "loadAvg_1m"))
                    writer.uint32(/* id 2, wireType 1 =*/17).double(message.loadAvg_1m);
                if (message.loadAvg_5m != null && $Object.hasOwnProperty.call(message, "loadAvg_5m"))
                    writer.uint32(/* id 3, wireType 1 =*/25).double(message.loadAvg_5m);
                if (message.loadAvg_15m != null && $Object.hasOwnProperty.call(message, "loadAvg_15m"))
                    writer.uint32(/* id 4, wireType 1 =*/33).double(message.loadAvg_15m);
                if (message.next != null && message.next.length)
                    for (let i = 0; i < message.next.length; ++i)
                        $root.tally.v1.DynoLoad.encode(message.next[i], writer.uint32(/* id 15, wireType 2 =*/122).fork(), _depth + 1).ldelim();
                if (message.$unknowns != null && $Object.hasOwnProperty.call(message, "$unknowns"))
                    for (let i = 0; i < message.$unknowns.length; ++i)
                        writer.raw(message.$unknowns[i]);
                return writer;
            };

            /**
             * Decodes a DynoLoad message from the specified reader or buffer.
             * @function decode
             * @memberof tally.v1.DynoLoad
             * @static
             * @param {$protobuf.Reader|Uint8Array} reader Reader or buffer to decode from
             * @param {number} [length] Message length if known beforehand
             * @returns {tally.v1.DynoLoad & tally.v1.DynoLoad.$Shape} DynoLoad
             * @throws {Error} If the payload is not a reader or valid buffer
             * @throws {$protobuf.util.ProtocolError} If required fields are missing
             */
            DynoLoad.decode = function (reader, length, _end, _depth, _target) {
                if (!(reader instanceof $Reader))
                    reader = $Reader.create(reader);
                if (_depth === $undefined)
                    _depth = 0;
                if (_depth > $Reader.recursionLimit)
                    throw $Error("max depth exceeded");
                let end, message, value;
                if (length === $undefined)
                    end = reader.len;
                else {
                    end = reader.pos + length;
                    if (end > reader.len)
                        throw $RangeError("index out of range");
                    length = reader.len;
                    reader.len = end;
                }
                message = _target || new $root.tally.v1.DynoLoad();
                while (reader.pos < end) {
                    let start = reader.pos;
                    let tag = reader.tag();
                    if (tag === _end) {
                        _end = $undefined;
                        break;
                    }
                    let wireType = tag & 7;
                    switch (tag >>>= 3) {
                    case 1: {
                            if (wireType !== 2)
                                break;
                            message.origin = $root.tally.v1.Origin.decode(reader, reader.size(), $undefined, _depth + 1, message.origin);
                            continue;
                        }
                    case 2: {
                            if (wireType !== 1)
                                break;
                            message.loadAvg_1m = reader.double();
                            message._loadAvg_1m = "loadAvg_1m";
                            continue;
                        }
                    case 3: {
                            if (wireType !== 1)
                                break;
                            message.loadAvg_5m = reader.double();
                            message._loadAvg_5m = "loadAvg_5m";
                            continue;
                        }
                    case 4: {
                            if (wireType !== 1)
                                break;
                            message.loadAvg_15m = reader.double();
                            message._loadAvg_15m = "loadAvg_15m";
                            continue;
                        }
                    case 15: {
                            if (wireType !== 2)
                                break;
                            if (!(message.next && message.next.length))
                                message.next = [];
                            message.next.push($root.tally.v1.DynoLoad.decode(reader, reader.size(), $undefined, _depth + 1));
                            continue;
                        }
                    }
                    reader.skipType(wireType, _depth, tag);
                    if (!reader.discardUnknown) {
                        $util.makeProp(message, "$unknowns", false);
                        (message.$unknowns || (message.$unknowns = [])).push(reader.raw(start, reader.pos));
                    }
                }
                if (length !== $undefined) {
                    if (reader.pos !== end)
                        throw $RangeError("index out of range");
                    reader.len = length;
                }
                if (_end !== $undefined)
                    throw $Error("missing end group");
                return message;
            };

            /**
             * Verifies a DynoLoad message.
             * @function verify
             * @memberof tally.v1.DynoLoad
             * @static
             * @param {Object.<string,*>} message Plain object to verify
             * @returns {string|null} `null` if valid, otherwise the reason why it is not
             */
            DynoLoad.verify = function (message, _depth) {
                if (typeof message !== "object" || message === null)
                    return "object expected";
                if (_depth === $undefined)
                    _depth = 0;
                if (_depth > $util.recursionLimit)
                    return "max depth exceeded";
                let properties = {};
                if (message.origin != null && $Object.hasOwnProperty.call(message, "origin")) {
                    let error = $root.tally.v1.Origin.verify(message.origin, _depth + 1);
                    if (error)
                        return "origin." + error;
                }
                if (message.loadAvg_1m != null && $Object.hasOwnProperty.call(message, "loadAvg_1m")) {
                    properties._loadAvg_1m = 1;
                    if (typeof message.loadAvg_1m !== "number")
                        return "loadAvg_1m: number expected";
                }
                if (message.loadAvg_5m != null && $Object.hasOwnProperty.call(message, "loadAvg_5m")) {
                    properties._loadAvg_5m = 1;
                    if (typeof message.loadAvg_5m !== "number")
                        return "loadAvg_5m: number expected";
                }
                if (message.loadAvg_15m != null && $Object.hasOwnProperty.call(message, "loadAvg_15m")) {
                    properties._loadAvg_15m = 1;
                    if (typeof message.loadAvg_15m !== "number")
                        return "loadAvg_15m: number expected";
                }
                if (message.next != null && $Object.hasOwnProperty.call(message, "next")) {
                    if (!$Array.isArray(message.next))
                        return "next: array expected";
                    for (let i = 0; i < message.next.length; ++i) {
                        let error = $root.tally.v1.DynoLoad.verify(message.next[i], _depth + 1);
                        if (error)
                            return "next." + error;
                    }
                }
                return null;
            };

            /**
             * Creates a DynoLoad message from a plain object. Also converts values to their respective internal types.
             * @function fromObject
             * @memberof tally.v1.DynoLoad
             * @static
             * @param {Object.<string,*>} object Plain object
             * @returns {tally.v1.DynoLoad} DynoLoad
             */
            DynoLoad.fromObject = function (object, _depth) {
                if (object instanceof $root.tally.v1.DynoLoad)
                    return object;
                if (!$util.isObject(object))
                    throw $TypeError(".tally.v1.DynoLoad: object expected");
                if (_depth === $undefined)
                    _depth = 0;
                if (_depth > $util.recursionLimit)
                    throw $Error("max depth exceeded");
                let message = new $root.tally.v1.DynoLoad();
                if (object.origin != null) {
                    if (!$util.isObject(object.origin))
                        throw $TypeError(".tally.v1.DynoLoad.origin: object expected");
                    message.origin = $root.tally.v1.Origin.fromObject(object.origin, _depth + 1);
                }
                if (object.loadAvg_1m != null)
                    message.loadAvg_1m = $Number(object.loadAvg_1m);
                if (object.loadAvg_5m != null)
                    message.loadAvg_5m = $Number(object.loadAvg_5m);
                if (object.loadAvg_15m != null)
                    message.loadAvg_15m = $Number(object.loadAvg_15m);
                if (object.next) {
                    if (!$Array.isArray(object.next))
                        throw $TypeError(".tally.v1.DynoLoad.next: array expected");
                    message.next = $Array(object.next.length);
                    for (let i = 0; i < object.next.length; ++i) {
                        if (!$util.isObject(object.next[i]))
                            throw $TypeError(".tally.v1.DynoLoad.next: object expected");
                        message.next[i] = $root.tally.v1.DynoLoad.fromObject(object.next[i], _depth + 1);
                    }
                }
                return message;
            };

            /**
             * Creates a plain object from a DynoLoad message. Also converts values to other types if specified.
             * @function toObject
             * @memberof tally.v1.DynoLoad
             * @static
             * @param {tally.v1.DynoLoad} message DynoLoad
             * @param {$protobuf.IConversionOptions} [options] Conversion options
             * @returns {Object.<string,*>} Plain object
             */
            DynoLoad.toObject = function (message, options, _depth) {
                if (!options)
                    options = {};
                if (_depth === $undefined)
                    _depth = 0;
                if (_depth > $util.recursionLimit)
                    throw $Error("max depth exceeded");
                let object = {};
                if (options.arrays || options.defaults)
                    object.next = [];
                if (options.defaults)
                    object.origin = null;
                if (message.origin != null && $Object.hasOwnProperty.call(message, "origin"))
                    object.origin = $root.tally.v1.Origin.toObject(message.origin, options, _depth + 1);
                if (message.loadAvg_1m != null && $Object.hasOwnProperty.call(message, "loadAvg_1m"))
                    object.loadAvg_1m = options.json && !$isFinite(message.loadAvg_1m) ? $String(message.loadAvg_1m) : message.loadAvg_1m;
                if (message.loadAvg_5m != null && $Object.hasOwnProperty.call(message, "loadAvg_5m"))
                    object.loadAvg_5m = options.json && !$isFinite(message.loadAvg_5m) ? $String(message.loadAvg_5m) : message.loadAvg_5m;
                if (message.loadAvg_15m != null && $Object.hasOwnProperty.call(message, "loadAvg_15m"))
                    object.loadAvg_15m = options.json && !$isFinite(message.loadAvg_15m) ? $String(message.loadAvg_15m) : message.loadAvg_15m;
                if (message.next && message.next.length) {
                    object.next = $Array(message.next.length);
                    for (let j = 0; j < message.next.length; ++j)
                        object.next[j] = $root.tally.v1.DynoLoad.toObject(message.next[j], options, _depth + 1);
                }
                return object;
            };

            /**
             * Converts this DynoLoad to JSON.
             * @function toJSON
             * @memberof tally.v1.DynoLoad
             * @instance
             * @returns {Object.<string,*>} JSON object
             */
            DynoLoad.prototype.toJSON = function() {
                return DynoLoad.toObject(this, $protobuf.util.toJSONOptions);
            };

            return DynoLoad;
        })();

        v1.RouterRequest = (function() {

            /**
             * Properties of a RouterRequest.
             * @typedef {Object} tally.v1.RouterRequest.$Properties
             * @property {tally.v1.Origin.$Properties} [origin] RouterRequest origin
             * @property {string} [at] RouterRequest at
             * @property {string} [method] RouterRequest method
             * @property {string} [path] RouterRequest path
             * @property {string} [host] RouterRequest host
             * @property {string} [requestId] RouterRequest requestId
             * @property {string} [fwd] RouterRequest fwd
             * @property {number} [status] RouterRequest status
             * @property {number|null} [connectMs] RouterRequest connectMs
             * @property {number|null} [serviceMs] RouterRequest serviceMs
             * @property {number|null} [bytes] RouterRequest bytes
             * @property {string} [protocol] RouterRequest protocol
             * @property {string} [code] RouterRequest code
             * @property {string} [desc] RouterRequest desc
             * @property {Array.<tally.v1.RouterRequest.$Properties>} [next] RouterRequest next
             * @property {Array.<Uint8Array>} [$unknowns] Unknown fields preserved while decoding when enabled
             */

            /**
             * Properties of a RouterRequest.
             * @memberof tally.v1
             * @interface IRouterRequest
             * @augments tally.v1.RouterRequest.$Properties
             * @deprecated Use tally.v1.RouterRequest.$Properties instead.
             */

            /**
             * Shape of a RouterRequest.
             * @typedef {tally.v1.RouterRequest.$Properties} tally.v1.RouterRequest.$Shape
             */

            /**
             * Constructs a new RouterRequest.
             * @memberof tally.v1
             * @classdesc Represents a RouterRequest.
             * @constructor
             * @param {tally.v1.RouterRequest.$Properties=} [properties] Properties to set
             * @property {Array.<Uint8Array>} [$unknowns] Unknown fields preserved while decoding when enabled
             */
            const RouterRequest = function (properties) {
                this.next = [];
                if (properties)
                    for (let keys = $Object.keys(properties), i = 0; i < keys.length; ++i)
                        if (properties[keys[i]] != null && keys[i] !== "__proto__")
                            this[keys[i]] = properties[keys[i]];
            };

            /**
             * RouterRequest origin.
             * @member {tally.v1.Origin} origin
             * @memberof tally.v1.RouterRequest
             * @instance
             */
            RouterRequest.prototype.origin = null;

            /**
             * RouterRequest at.
             * @member {string} at
             * @memberof tally.v1.RouterRequest
             * @instance
             */
            RouterRequest.prototype.at = "";

            /**
             * RouterRequest method.
             * @member {string} method
             * @memberof tally.v1.RouterRequest
             * @instance
             */
            RouterRequest.prototype.method = "";

            /**
             * RouterRequest path.
             * @member {string} path
             * @memberof tally.v1.RouterRequest
             * @instance
             */
            RouterRequest.prototype.path = "";

            /**
             * RouterRequest host.
             * @member {string} host
             * @memberof tally.v1.RouterRequest
             * @instance
             */
            RouterRequest.prototype.host = "";

            /**
             * RouterRequest requestId.
             * @member {string} requestId
             * @memberof tally.v1.RouterRequest
             * @instance
             */
            RouterRequest.prototype.requestId = "";

            /**
             * RouterRequest fwd.
             * @member {string} fwd
             * @memberof tally.v1.RouterRequest
             * @instance
             */
            RouterRequest.prototype.fwd = "";

            /**
             * RouterRequest status.
             * @member {number} status
             * @memberof tally.v1.RouterRequest
             * @instance
             */
            RouterRequest.prototype.status = 0;

            /**
             * RouterRequest connectMs.
             * @member {number|null} connectMs
             * @memberof tally.v1.RouterRequest
             * @instance
             */
            RouterRequest.prototype.connectMs = null;

            /**
             * RouterRequest serviceMs.
             * @member {number|null} serviceMs
             * @memberof tally.v1.RouterRequest
             * @instance
             */
            RouterRequest.prototype.serviceMs = null;

            /**
             * RouterRequest bytes.
             * @member {number|null} bytes
             * @memberof tally.v1.RouterRequest
             * @instance
             */
            RouterRequest.prototype.bytes = null;

            /**
             * RouterRequest protocol.
             * @member {string} protocol
             * @memberof tally.v1.RouterRequest
             * @instance
             */
            RouterRequest.prototype.protocol = "";

            /**
             * RouterRequest code.
             * @member {string} code
             * @memberof tally.v1.RouterRequest
             * @instance
             */
            RouterRequest.prototype.code = "";

            /**
             * RouterRequest desc.
             * @member {string} desc
             * @memberof tally.v1.RouterRequest
             * @instance
             */
            RouterRequest.prototype.desc = "";

            /**
             * RouterRequest next.
             * @member {Array.<tally.v1.RouterRequest>} next
             * @memberof tally.v1.RouterRequest
             * @instance
             */
            RouterRequest.prototype.next = $util.emptyArray;

            // OneOf field names bound to virtual getters and setters
            let $oneOfFields;

            // Virtual OneOf for proto3 optional field
            $Object.defineProperty(RouterRequest.prototype, "_connectMs", {
                get: $util.oneOfGetter($oneOfFields = ["connectMs"]),
                set: $util.oneOfSetter($oneOfFields)
            });

            // Virtual OneOf for proto3 optional field
            $Object.defineProperty(RouterRequest.prototype, "_serviceMs", {
                get: $util.oneOfGetter($oneOfFields = ["serviceMs"]),
                set: $util.oneOfSetter($oneOfFields)
            });

            // Virtual OneOf for proto3 optional field
            $Object.defineProperty(RouterRequest.prototype, "_bytes", {
                get: $util.oneOfGetter($oneOfFields = ["bytes"]),
                set: $util.oneOfSetter($oneOfFields)
            });

            /**
             * Creates a new RouterRequest instance using the specified properties.
             * @function create
             * @memberof tally.v1.RouterRequest
             * @static
             * @param {tally.v1.RouterRequest.$Properties=} [properties] Properties to set
             * @returns {tally.v1.RouterRequest} RouterRequest instance
             * @type {{
             *   (properties: tally.v1.RouterRequest.$Shape): tally.v1.RouterRequest & tally.v1.RouterRequest.$Shape;
             *   (properties?: tally.v1.RouterRequest.$Properties): tally.v1.RouterRequest;
             * }}
             */
            RouterRequest.create = function(properties) {
                return new RouterRequest(properties);
            };

            /**
             * Encodes the specified RouterRequest message. Does not implicitly {@link tally.v1.RouterRequest.verify|verify} messages.
             * @function encode
             * @memberof tally.v1.RouterRequest
             * @static
             * @param {tally.v1.RouterRequest.$Properties} message RouterRequest message or plain object to encode
             * @param {$protobuf.Writer} [writer] Writer to encode to
             * @returns {$protobuf.Writer} Writer
             */
            RouterRequest.encode = function (message, writer, _depth) {
                if (!writer)
                    writer = $Writer.create();
                if (_depth === $undefined)
                    _depth = 0;
                if (_depth > $util.recursionLimit)
                    throw $Error("max depth exceeded");
                if (message.origin != null && $Object.hasOwnProperty.call(message, "origin"))
                    $root.tally.v1.Origin.encode(message.origin, writer.uint32(/* id 1, wireType 2 =*/10).fork(), _depth + 1).ldelim();
                if (message.at != null && $Object.hasOwnProperty.call(message, "at") && message.at !== "")
                    writer.uint32(/* id 2, wireType 2 =*/18).string(message.at);
                if (message.method != null && $Object.hasOwnProperty.call(message, "method") && message.method !== "")
                    writer.uint32(/* id 3, wireType 2 =*/26).string(message.method);
                if (message.path != null && $Object.hasOwnProperty.call(message, "path") && message.path !== "")
                    writer.uint32(/* id 4, wireType 2 =*/34).string(message.path);
                if (message.host != null && $Object.hasOwnProperty.call(message, "host") && message.host !== "")
                    writer.uint32(/* id 5, wireType 2 =*/42).string(message.host);
                if (message.requestId != null && $Object.hasOwnProperty.call(message, "requestId") && message.requestId !== "")
                    writer.uint32(/* id 6, wireType 2 =*/50).string(message.requestId);
                if (message.fwd != null && $Object.hasOwnProperty.call(message, "fwd") && message.fwd !== "")
                    writer.uint32(/* id 7, wireType 2 =*/58).string(message.fwd);
                if (message.status != null && $Object.hasOwnProperty.call(message, "status") && message.status !== 0)
                    writer.uint32(/* id 8, wireType 0 =*/64).uint32(message.status);
                if (message.connectMs != null && $Object.hasOwnProperty.call(message, "connectMs"))
                    writer.uint32(/* id 9, wireType 1 =*/73).double(message.connectMs);
                if (message.serviceMs != null && $Object.hasOwnProperty.call(message, "serviceMs"))
                    writer.uint32(/* id 10, wireType 1 =*/81).double(message.serviceMs);
                if (message.bytes != null && $Object.hasOwnProperty.call(message, "bytes"))
                    writer.uint32(/* id 11, wireType 0 =*/88).uint64(message.bytes);
                if (message.protocol != null && $Object.hasOwnProperty.call(message, "protocol") && message.protocol !== "")
                    writer.uint32(/* id 12, wireType 2 =*/98).string(message.protocol);
                if (message.code != null && $Object.hasOwnProperty.call(message, "code") && message.code !== "")
                    writer.uint32(/* id 13, wireType 2 =*/106).string(message.code);
                if (message.desc != null && $Object.hasOwnProperty.call(message, "desc") && message.desc !== "")
                    writer.uint32(/* id 14, wireType 2 =*/114).string(message.desc);
                if (message.next != null && message.next.length)
                    for (let i = 0; i < message.next.length; ++i)
                        $root.tally.v1.RouterRequest.encode(message.next[i], writer.uint32(/* id 15, wireType 2 =*/122).fork(), _depth + 1).ldelim();
                if (message.$unknowns != null && $Object.hasOwnProperty.call(message, "$unknowns"))
                    for (let i = 0; i < message.$unknowns.length; ++i)
                        writer.raw(message.$unknowns[i]);
                return writer;
            };

            /**
             * Decodes a RouterRequest message from the specified reader or buffer.
             * @function decode
             * @memberof tally.v1.RouterRequest
             * @static
             * @param {$protobuf.Reader|Uint8Array} reader Reader or buffer to decode from
             * @param {number} [length] Message length if known beforehand
             * @returns {tally.v1.RouterRequest & tally.v1.RouterRequest.$Shape} RouterRequest
             * @throws {Error} If the payload is not a reader or valid buffer
             * @throws {$protobuf.util.ProtocolError} If required fields are missing
             */
            RouterRequest.decode = function (reader, length, _end, _depth, _target) {
                if (!(reader instanceof $Reader))
                    reader = $Reader.create(reader);
                if (_depth === $undefined)
                    _depth = 0;
                if (_depth > $Reader.recursionLimit)
                    throw $Error("max depth exceeded");
                let end, message, value;
                if (length === $undefined)
                    end = reader.len;
                else {
                    end = reader.pos + length;
                    if (end > reader.len)
                        throw $RangeError("index out of range");
                    length = reader.len;
                    reader.len = end;
                }
                message = _target || new $root.tally.v1.RouterRequest();
                while (reader.pos < end) {
                    let start = reader.pos;
                    let tag = reader.tag();
                    if (tag === _end) {
                        _end = $undefined;
                        break;
                    }
                    let wireType = tag & 7;
                    switch (tag >>>= 3) {
                    case 1: {
                            if (wireType !== 2)
                                break;
                            message.origin = $root.tally.v1.Origin.decode(reader, reader.size(), $undefined, _depth + 1, message.origin);
                            continue;
                        }
                    case 2: {
                            if (wireType !== 2)
                                break;
                            if ((value = reader.stringVerify()).length)
                                message.at = value;
                            else
                                delete message.at;
                            continue;
                        }
                    case 3: {
                            if (wireType !== 2)
                                break;
                            if ((value = reader.stringVerify()).length)
                                message.method = value;
                            else
                                delete message.method;
                            continue;
                        }
                    case 4: {
                            if (wireType !== 2)
                                break;
                            if ((value = reader.stringVerify()).length)
                                message.path = value;
                            else
                                delete message.path;
                            continue;
                        }
                    case 5: {
                            if (wireType !== 2)
                                break;
                            if ((value = reader.stringVerify()).length)
                                message.host = value;
                            else
                                delete message.host;
                            continue;
                        }
                    case 6: {
                            if (wireType !== 2)
                                break;
                            if ((value = reader.stringVerify()).length)
                                message.requestId = value;
                            else
                                delete message.requestId;
                            continue;
                        }
                    case 7: {
                            if (wireType !== 2)
                                break;
                            if ((value = reader.stringVerify()).length)
                                message.fwd = value;
                            else
                                delete message.fwd;
                            continue;
                        }
                    case 8: {
                            if (wireType !== 0)
                                break;
                            if (value = reader.uint32())
                                message.status = value;
                            else
                                delete message.status;
                            continue;
                        }
                    case 9: {
                            if (wireType !== 1)
                                break;
                            message.connectMs = reader.double();
                            message._connectMs = "connectMs";
                            continue;
                        }
                    case 10: {
                            if (wireType !== 1)
                                break;
                            message.serviceMs = reader.double();
                            message._serviceMs = "serviceMs";
                            continue;
                        }
                    case 11: {
                            if (wireType !== 0)
                                break;
                            message.bytes = reader.uint64();
                            message._bytes = "bytes";
                            continue;
                        }
                    case 12: {
                            if (wireType !== 2)
                                break;
                            if ((value = reader.stringVerify()).length)
                                message.protocol = value;
                            else
                                delete message.protocol;
                            continue;
                        }
                    case 13: {
                            if (wireType !== 2)
                                break;
                            if ((value = reader.stringVerify()).length)
                                message.code = value;
                            else
                                delete message.code;
                            continue;
                        }
                    case 14: {
                            if (wireType !== 2)
                                break;
                            if ((value = reader.stringVerify()).length)
                                message.desc = value;
                            else
                                delete message.desc;
                            continue;
                        }
                    case 15: {
                            if (wireType !== 2)
                                break;
                            if (!(message.next && message.next.length))
                                message.next = [];
                            message.next.push($root.tally.v1.RouterRequest.decode(reader, reader.size(), $undefined, _depth + 1));
                            continue;
                        }
                    }
                    reader.skipType(wireType, _depth, tag);
                    if (!reader.discardUnknown) {
                        $util.makeProp(message, "$unknowns", false);
                        (message.$unknowns || (message.$unknowns = [])).push(reader.raw(start, reader.pos));
                    }
                }
                if (length !== $undefined) {
                    if (reader.pos !== end)
                        throw $RangeError("index out of range");
                    reader.len = length;
                }
                if (_end !== $undefined)
                    throw $Error("missing end group");
                return message;
            };

            /**
             * Verifies a RouterRequest message.
             * @function verify
             * @memberof tally.v1.RouterRequest
             * @static
             * @param {Object.<string,*>} message Plain object to verify
             * @returns {string|null} `null` if valid, otherwise the reason why it is not
             */
            RouterRequest.verify = function (message, _depth) {
                if (typeof message !== "object" || message === null)
                    return "object expected";
                if (_depth === $undefined)
                    _depth = 0;
                if (_depth > $util.recursionLimit)
                    return "max depth exceeded";
                let properties = {};
                if (message.origin != null && $Object.hasOwnProperty.call(message, "origin")) {
                    let error = $root.tally.v1.Origin.verify(message.origin, _depth + 1);
                    if (error)
                        return "origin." + error;
                }
                if (message.at != null && $Object.hasOwnProperty.call(message, "at"))
                    if (!$util.isString(message.at))
                        return "at: string expected";
                if (message.method != null && $Object.hasOwnProperty.call(message, "method"))
                    if (!$util.isString(message.method))
                        return "method: string expected";
                if (message.path != null && $Object.hasOwnProperty.call(message, "path"))
                    if (!$util.isString(message.path))
                        return "path: string expected";
                if (message.host != null && $Object.hasOwnProperty.call(message, "host"))
                    if (!$util.isString(message.host))
                        return "host: string expected";
                if (message.requestId != null && $Object.hasOwnProperty.call(message, "requestId"))
                    if (!$util.isString(message.requestId))
                        return "requestId: string expected";
                if (message.fwd != null && $Object.hasOwnProperty.call(message, "fwd"))
                    if (!$util.isString(message.fwd))
                        return "fwd: string expected";
                if (message.status != null && $Object.hasOwnProperty.call(message, "status"))
                    if (!$util.isInteger(message.status))
                        return "status: integer expected";
                if (message.connectMs != null && $Object.hasOwnProperty.call(message, "connectMs")) {
                    properties._connectMs = 1;
                    if (typeof message.connectMs !== "number")
                        return "connectMs: number expected";
                }
                if (message.serviceMs != null && $Object.hasOwnProperty.call(message, "serviceMs")) {
                    properties._serviceMs = 1;
                    if (typeof message.serviceMs !== "number")
                        return "serviceMs: number expected";
                }
                if (message.bytes != null && $Object.hasOwnProperty.call(message, "bytes")) {
                    properties._bytes = 1;
                    if (!$util.isInteger(message.bytes) && !(message.bytes && $util.isInteger(message.bytes.low) && $util.isInteger(message.bytes.high)))
                        return "bytes: integer|Long expected";
                }
                if (message.protocol != null && $Object.hasOwnProperty.call(message, "protocol"))
                    if (!$util.isString(message.protocol))
                        return "protocol: string expected";
                if (message.code != null && $Object.hasOwnProperty.call(message, "code"))
                    if (!$util.isString(message.code))
                        return "code: string expected";
                if (message.desc != null && $Object.hasOwnProperty.call(message, "desc"))
                    if (!$util.isString(message.desc))
                        return "desc: string expected";
                if (message.next != null && $Object.hasOwnProperty.call(message, "next")) {
                    if (!$Array.isArray(message.next))
                        return "next: array expected";
                    for (let i = 0; i < message.next.length; ++i) {
                        let error = $root.tally.v1.RouterRequest.verify(message.next[i], _depth + 1);
                        if (error)
                            return "next." + error;
                    }
                }
                return null;
            };

            /**
             * Creates a RouterRequest message from a plain object. Also converts values to their respective internal types.
             * @function fromObject
             * @memberof tally.v1.RouterRequest
             * @static
             * @param {Object.<string,*>} object Plain object
             * @returns {tally.v1.RouterRequest} RouterRequest
             */
            RouterRequest.fromObject = function (object, _depth) {
                if (object instanceof $root.tally.v1.RouterRequest)
                    return object;
                if (!$util.isObject(object))
                    throw $TypeError(".tally.v1.RouterRequest: object expected");
                if (_depth === $undefined)
                    _depth = 0;
                if (_depth > $util.recursionLimit)
                    throw $Error("max depth exceeded");
                let message = new $root.tally.v1.RouterRequest();
                if (object.origin != null) {
                    if (!$util.isObject(object.origin))
                        throw $TypeError(".tally.v1.RouterRequest.origin: object expected");
                    message.origin = $root.tally.v1.Origin.fromObject(object.origin, _depth + 1);
                }
                if (object.at != null)
                    if (typeof object.at !== "string" || object.at.length)
                        message.at = $String(object.at);
                if (object.method != null)
                    if (typeof object.method !== "string" || object.method.length)
                        message.method = $String(object.method);
                if (object.path != null)
                    if (typeof object.path !== "string" || object.path.length)
                        message.path = $String(object.path);
                if (object.host != null)
                    if (typeof object.host !== "string" || object.host.length)
                        message.host = $String(object.host);
                if (object.requestId != null)
                    if (typeof object.requestId !== "string" || object.requestId.length)
                        message.requestId = $String(object.requestId);
                if (object.fwd != null)
                    if (typeof object.fwd !== "string" || object.fwd.length)
                        message.fwd = $String(object.fwd);
                if (object.status != null)
                    if ($Number(object.status) !== 0)
                        message.status = object.status >>> 0;
                if (object.connectMs != null)
                    message.connectMs = $Number(object.connectMs);
                if (object.serviceMs != null)
                    message.serviceMs = $Number(object.serviceMs);
                if (object.bytes != null)
                    if ($util.Long)
                        message.bytes = $util.Long.fromValue(object.bytes, true);
                    else if (typeof object.bytes === "string")
                        message.bytes = $parseInt(object.bytes, 10);
                    else if (typeof object.bytes === "number")
                        message.bytes = object.bytes;
                    else if (typeof object.bytes === "object")
                        message.bytes = new $util.LongBits(object.bytes.low >>> 0, object.bytes.high >>> 0).toNumber(true);
                if (object.protocol != null)
                    if (typeof object.protocol !== "string" || object.protocol.length)
                        message.protocol = $String(object.protocol);
                if (object.code != null)
                    if (typeof object.code !== "string" || object.code.length)
                        message.code = $String(object.code);
                if (object.desc != null)
                    if (typeof object.desc !== "string" || object.desc.length)
                        message.desc = $String(object.desc);
                if (object.next) {
                    if (!$Array.isArray(object.next))
                        throw $TypeError(".tally.v1.RouterRequest.next: array expected");
                    message.next = $Array(object.next.length);
                    for (let i = 0; i < object.next.length; ++i) {
                        if (!$util.isObject(object.next[i]))
                            throw $TypeError(".tally.v1.RouterRequest.next: object expected");
                        message.next[i] = $root.tally.v1.RouterRequest.fromObject(object.next[i], _depth + 1);
                    }
                }
                return message;
            };

            /**
             * Creates a plain object from a RouterRequest message. Also converts values to other types if specified.
             * @function toObject
             * @memberof tally.v1.RouterRequest
             * @static
             * @param {tally.v1.RouterRequest} message RouterRequest
             * @param {$protobuf.IConversionOptions} [options] Conversion options
             * @returns {Object.<string,*>} Plain object
             */
            RouterRequest.toObject = function (message, options, _depth) {
                if (!options)
                    options = {};
                if (_depth === $undefined)
                    _depth = 0;
                if (_depth > $util.recursionLimit)
                    throw $Error("max depth exceeded");
                let object = {};
                if (options.arrays || options.defaults)
                    object.next = [];
                if (options.defaults) {
                    object.origin = null;
                    object.at = "";
                    object.method = "";
                    object.path = "";
                    object.host = "";
                    object.requestId = "";
                    object.fwd = "";
                    object.status = 0;
                    object.protocol = "";
                    object.code = "";
                    object.desc = "";
                }
                if (message.origin != null && $Object.hasOwnProperty.call(message, "origin"))
                    object.origin = $root.tally.v1.Origin.toObject(message.origin, options, _depth + 1);
                if (message.at != null && $Object.hasOwnProperty.call(message, "at"))
                    object.at = message.at;
                if (message.method != null && $Object.hasOwnProperty.call(message, "method"))
                    object.method = message.method;
                if (message.path != null && $Object.hasOwnProperty.call(message, "path"))
                    object.path = message.path;
                if (message.host != null && $Object.hasOwnProperty.call(message, "host"))
                    object.host = message.host;
                if (message.requestId != null && $Object.hasOwnProperty.call(message, "requestId"))
                    object.requestId = message.requestId;
                if (message.fwd != null && $Object.hasOwnProperty.call(message, "fwd"))
                    object.fwd = message.fwd;
                if (message.status != null && $Object.hasOwnProperty.call(message, "status"))
                    object.status = message.status;
                if (message.connectMs != null && $Object.hasOwnProperty.call(message, "connectMs"))
                    object.connectMs = options.json && !$isFinite(message.connectMs) ? $String(message.connectMs) : message.connectMs;
                if (message.serviceMs != null && $Object.hasOwnProperty.call(message, "serviceMs"))
                    object.serviceMs = options.json && !$isFinite(message.serviceMs) ? $String(message.serviceMs) : message.serviceMs;
                if (message.bytes != null && $Object.hasOwnProperty.call(message, "bytes"))
                    if (typeof $BigInt !== "undefined" && options.longs === $BigInt)
                        object.bytes = typeof message.bytes === "number" ? $BigInt(message.bytes) : $util.Long.fromBits(message.bytes.low >>> 0, message.bytes.high >>> 0, true).toBigInt();
                    else if (typeof message.bytes === "number")
                        object.bytes = options.longs === $String ? $String(message.bytes) : message.bytes;
                    else
                        object.bytes = options.longs === $String ? $util.Long.prototype.toString.call(message.bytes) : options.longs === $Number ? new $util.LongBits(message.bytes.low >>> 0, message.bytes.high >>> 0).toNumber(true) : message.bytes;
                if (message.protocol != null && $Object.hasOwnProperty.call(message, "protocol"))
                    object.protocol = message.protocol;
                if (message.code != null && $Object.hasOwnProperty.call(message, "code"))
                    object.code = message.code;
                if (message.desc != null && $Object.hasOwnProperty.call(message, "desc"))
                    object.desc = message.desc;
                if (message.next && message.next.length) {
                    object.next = $Array(message.next.length);
                    for (let j = 0; j < message.next.length; ++j)
                        object.next[j] = $root.tally.v1.RouterRequest.toObject(message.next[j], options, _depth + 1);
                }
                return object;
            };

            /**
             * Converts this RouterRequest to JSON.
             * @function toJSON
             * @memberof tally.v1.RouterRequest
             * @instance
             * @returns {Object.<string,*>} JSON object
             */
            RouterRequest.prototype.toJSON = function() {
                return RouterRequest.toObject(this, $protobuf.util.toJSONOptions);
            };

            return RouterRequest;
        })();

        v1.ErrorCode = (function() {

            /**
             * Properties of an ErrorCode.
             * @typedef {Object} tally.v1.ErrorCode.$Properties
             * @property {tally.v1.Origin.$Properties} [origin] ErrorCode origin
             * @property {string} [code] ErrorCode code
             * @property {number} [count] ErrorCode count
             * @property {string} [description] ErrorCode description
             * @property {Array.<tally.v1.ErrorCode.$Properties>} [next] ErrorCode next
             * @property {Array.<Uint8Array>} [$unknowns] Unknown fields preserved while decoding when enabled
             */

            /**
             * Properties of an ErrorCode.
             * @memberof tally.v1
             * @interface IErrorCode
             * @augments tally.v1.ErrorCode.$Properties
             * @deprecated Use tally.v1.ErrorCode.$Properties instead.
             */

            /**
             * Shape of an ErrorCode.
             * @typedef {tally.v1.ErrorCode.$Properties} tally.v1.ErrorCode.$Shape
             */

            /**
             * Constructs a new ErrorCode.
             * @memberof tally.v1
             * @classdesc Represents an ErrorCode.
             * @constructor
             * @param {tally.v1.ErrorCode.$Properties=} [properties] Properties to set
             * @property {Array.<Uint8Array>} [$unknowns] Unknown fields preserved while decoding when enabled
             */
            const ErrorCode = function (properties) {
                this.next = [];
                if (properties)
                    for (let keys = $Object.keys(properties), i = 0; i < keys.length; ++i)
                        if (properties[keys[i]] != null && keys[i] !== "__proto__")
                            this[keys[i]] = properties[keys[i]];
            };

            /**
             * ErrorCode origin.
             * @member {tally.v1.Origin} origin
             * @memberof tally.v1.ErrorCode
             * @instance
             */
            ErrorCode.prototype.origin = null;

            /**
             * ErrorCode code.
             * @member {string} code
             * @memberof tally.v1.ErrorCode
             * @instance
             */
            ErrorCode.prototype.code = "";

            /**
             * ErrorCode count.
             * @member {number} count
             * @memberof tally.v1.ErrorCode
             * @instance
             */
            ErrorCode.prototype.count = $util.Long ? $util.Long.fromBits(0,0,true) : 0;

            /**
             * ErrorCode description.
             * @member {string} description
             * @memberof tally.v1.ErrorCode
             * @instance
             */
            ErrorCode.prototype.description = "";

            /**
             * ErrorCode next.
             * @member {Array.<tally.v1.ErrorCode>} next
             * @memberof tally.v1.ErrorCode
             * @instance
             */
            ErrorCode.prototype.next = $util.emptyArray;

            /**
             * Creates a new ErrorCode instance using the specified properties.
             * @function create
             * @memberof tally.v1.ErrorCode
             * @static
             * @param {tally.v1.ErrorCode.$Properties=} [properties] Properties to set
             * @returns {tally.v1.ErrorCode} ErrorCode instance
             * @type {{
             *   (properties: tally.v1.ErrorCode.$Shape): tally.v1.ErrorCode & tally.v1.ErrorCode.$Shape;
             *   (properties?: tally.v1.ErrorCode.$Properties): tally.v1.ErrorCode;
             * }}
             */
            ErrorCode.create = function(properties) {
                return new ErrorCode(properties);
            };

            /**
             * Encodes the specified ErrorCode message. Does not implicitly {@link tally.v1.ErrorCode.verify|verify} messages.
             * @function encode
             * @memberof tally.v1.ErrorCode
             * @static
             * @param {tally.v1.ErrorCode.$Properties} message ErrorCode message or plain object to encode
             * @param {$protobuf.Writer} [writer] Writer to encode to
             * @returns {$protobuf.Writer} Writer
             */
            ErrorCode.encode = function (message, writer, _depth) {
                if (!writer)
                    writer = $Writer.create();
                if (_depth === $undefined)
                    _depth = 0;
                if (_depth > $util.recursionLimit)
                    throw $Error("max depth exceeded");
                if (message.origin != null && $Object.hasOwnProperty.call(message, "origin"))
                    $root.tally.v1.Origin.encode(message.origin, writer.uint32(/* id 1, wireType 2 =*/10).fork(), _depth + 1).ldelim();
                if (message.code != null && $Object.hasOwnProperty.call(message, "code") && message.code !== "")
                    writer.uint32(/* id 2, wireType 2 =*/18).string(message.code);
                if (message.count != null && $Object.hasOwnProperty.call(message, "count") && (typeof message.count === "object" ? message.count.low || message.count.high : message.count !== 0))
                    writer.uint32(/* id 3, wireType 0 =*/24).uint64(message.count);
                if (message.description != null && $Object.hasOwnProperty.call(message, "description") && message.description !== "")
                    writer.uint32(/* id 4, wireType 2 =*/34).string(message.description);
                if (message.next != null && message.next.length)
                    for (let i = 0; i < message.next.length; ++i)
                        $root.tally.v1.ErrorCode.encode(message.next[i], writer.uint32(/* id 15, wireType 2 =*/122).fork(), _depth + 1).ldelim();
                if (message.$unknowns != null && $Object.hasOwnProperty.call(message, "$unknowns"))
                    for (let i = 0; i < message.$unknowns.length; ++i)
                        writer.raw(message.$unknowns[i]);
                return writer;
            };

            /**
             * Decodes an ErrorCode message from the specified reader or buffer.
             * @function decode
             * @memberof tally.v1.ErrorCode
             * @static
             * @param {$protobuf.Reader|Uint8Array} reader Reader or buffer to decode from
             * @param {number} [length] Message length if known beforehand
             * @returns {tally.v1.ErrorCode & tally.v1.ErrorCode.$Shape} ErrorCode
             * @throws {Error} If the payload is not a reader or valid buffer
             * @throws {$protobuf.util.ProtocolError} If required fields are missing
             */
            ErrorCode.decode = function (reader, length, _end, _depth, _target) {
                if (!(reader instanceof $Reader))
                    reader = $Reader.create(reader);
                if (_depth === $undefined)
                    _depth = 0;
                if (_depth > $Reader.recursionLimit)
                    throw $Error("max depth exceeded");
                let end, message, value;
                if (length === $undefined)
                    end = reader.len;
                else {
                    end = reader.pos + length;
                    if (end > reader.len)
                        throw $RangeError("index out of range");
                    length = reader.len;
                    reader.len = end;
                }
                message = _target || new $root.tally.v1.ErrorCode();
                while (reader.pos < end) {
                    let start = reader.pos;
                    let tag = reader.tag();
                    if (tag === _end) {
                        _end = $undefined;
                        break;
                    }
                    let wireType = tag & 7;
                    switch (tag >>>= 3) {
                    case 1: {
                            if (wireType !== 2)
                                break;
                            message.origin = $root.tally.v1.Origin.decode(reader, reader.size(), $undefined, _depth + 1, message.origin);
                            continue;
                        }
                    case 2: {
                            if (wireType !== 2)
                                break;
                            if ((value = reader.stringVerify()).length)
                                message.code = value;
                            else
                                delete message.code;
                            continue;
                        }
                    case 3: {
                            if (wireType !== 0)
                                break;
                            if (typeof (value = reader.uint64()) === "object" ? value.low || value.high : value !== 0)
                                message.count = value;
                            else
                                delete message.count;
                            continue;
                        }
                    case 4: {
                            if (wireType !== 2)
                                break;
                            if ((value = reader.stringVerify()).length)
                                message.description = value;
                            else
                                delete message.description;
                            continue;
                        }
                    case 15: {
                            if (wireType !== 2)
                                break;
                            if (!(message.next && message.next.length))
                                message.next = [];
                            message.next.push($root.tally.v1.ErrorCode.decode(reader, reader.size(), $undefined, _depth + 1));
                            continue;
                        }
                    }
                    reader.skipType(wireType, _depth, tag);
                    if (!reader.discardUnknown) {
                        $util.makeProp(message, "$unknowns", false);
                        (message.$unknowns || (message.$unknowns = [])).push(reader.raw(start, reader.pos));
                    }
                }
                if (length !== $undefined) {
                    if (reader.pos !== end)
                        throw $RangeError("index out of range");
                    reader.len = length;
                }
                if (_end !== $undefined)
                    throw $Error("missing end group");
                return message;
            };

            /**
             * Verifies an ErrorCode message.
             * @function verify
             * @memberof tally.v1.ErrorCode
             * @static
             * @param {Object.<string,*>} message Plain object to verify
             * @returns {string|null} `null` if valid, otherwise the reason why it is not
             */
            ErrorCode.verify = function (message, _depth) {
                if (typeof message !== "object" || message === null)
                    return "object expected";
                if (_depth === $undefined)
                    _depth = 0;
                if (_depth > $util.recursionLimit)
                    return "max depth exceeded";
                if (message.origin != null && $Object.hasOwnProperty.call(message, "origin")) {
                    let error = $root.tally.v1.Origin.verify(message.origin, _depth + 1);
                    if (error)
                        return "origin." + error;
                }
                if (message.code != null && $Object.hasOwnProperty.call(message, "code"))
                    if (!$util.isString(message.code))
                        return "code: string expected";
                if (message.count != null && $Object.hasOwnProperty.call(message, "count"))
                    if (!$util.isInteger(message.count) && !(message.count && $util.isInteger(message.count.low) && $util.isInteger(message.count.high)))
                        return "count: integer|Long expected";
                if (message.description != null && $Object.hasOwnProperty.call(message, "description"))
                    if (!$util.isString(message.description))
                        return "description: string expected";
                if (message.next != null && $Object.hasOwnProperty.call(message, "next")) {
                    if (!$Array.isArray(message.next))
                        return "next: array expected";
                    for (let i = 0; i < message.next.length; ++i) {
                        let error = $root.tally.v1.ErrorCode.verify(message.next[i], _depth + 1);
                        if (error)
                            return "next." + error;
                    }
                }
                return null;
            };

            /**
             * Creates an ErrorCode message from a plain object. Also converts values to their respective internal types.
             * @function fromObject
             * @memberof tally.v1.ErrorCode
             * @static
             * @param {Object.<string,*>} object Plain object
             * @returns {tally.v1.ErrorCode} ErrorCode
             */
            ErrorCode.fromObject = function (object, _depth) {
                if (object instanceof $root.tally.v1.ErrorCode)
                    return object;
                if (!$util.isObject(object))
                    throw $TypeError(".tally.v1.ErrorCode: object expected");
                if (_depth === $undefined)
                    _depth = 0;
                if (_depth > $util.recursionLimit)
                    throw $Error("max depth exceeded");
                let message = new $root.tally.v1.ErrorCode();
                if (object.origin != null) {
                    if (!$util.isObject(object.origin))
                        throw $TypeError(".tally.v1.ErrorCode.origin: object expected");
                    message.origin = $root.tally.v1.Origin.fromObject(object.origin, _depth + 1);
                }
                if (object.code != null)
                    if (typeof object.code !== "string" || object.code.length)
                        message.code = $String(object.code);
                if (object.count != null)
                    if (typeof object.count === "object" ? object.count.low || object.count.high : $Number(object.count) !== 0)
                        if ($util.Long)
                            message.count = $util.Long.fromValue(object.count, true);
                        else if (typeof object.count === "string")
                            message.count = $parseInt(object.count, 10);
                        else if (typeof object.count === "number")
                            message.count = object.count;
                        else if (typeof object.count === "object")
                            message.count = new $util.LongBits(object.count.low >>> 0, object.count.high >>> 0).toNumber(true);
                if (object.description != null)
                    if (typeof object.description !== "string" || object.description.length)
                        message.description = $String(object.description);
                if (object.next) {
                    if (!$Array.isArray(object.next))
                        throw $TypeError(".tally.v1.ErrorCode.next: array expected");
                    message.next = $Array(object.next.length);
                    for (let i = 0; i < object.next.length; ++i) {
                        if (!$util.isObject(object.next[i]))
                            throw $TypeError(".tally.v1.ErrorCode.next: object expected");
                        message.next[i] = $root.tally.v1.ErrorCode.fromObject(object.next[i], _depth + 1);
                    }
                }
                return message;
            };

            /**
             * Creates a plain object from an ErrorCode message. Also converts values to other types if specified.
             * @function toObject
             * @memberof tally.v1.ErrorCode
             * @static
             * @param {tally.v1.ErrorCode} message ErrorCode
             * @param {$protobuf.IConversionOptions} [options] Conversion options
             * @returns {Object.<string,*>} Plain object
             */
            ErrorCode.toObject = function (message, options, _depth) {
                if (!options)
                    options = {};
                if (_depth === $undefined)
                    _depth = 0;
                if (_depth > $util.recursionLimit)
                    throw $Error("max depth exceeded");
                let object = {};
                if (options.arrays || options.defaults)
                    object.next = [];
                if (options.defaults) {
                    object.origin = null;
                    object.code = "";
                    if ($util.Long) {
                        let long = new $util.Long(0, 0, true);
                        object.count = options.longs === $String ? long.toString() : options.longs === $Number ? long.toNumber() : typeof $BigInt !== "undefined" && options.longs === $BigInt ? long.toBigInt() : long;
                    } else
                        object.count = options.longs === $String ? "0" : typeof $BigInt !== "undefined" && options.longs === $BigInt ? $BigInt("0") : 0;
                    object.description = "";
                }
                if (message.origin != null && $Object.hasOwnProperty.call(message, "origin"))
                    object.origin = $root.tally.v1.Origin.toObject(message.origin, options, _depth + 1);
                if (message.code != null && $Object.hasOwnProperty.call(message, "code"))
                    object.code = message.code;
                if (message.count != null && $Object.hasOwnProperty.call(message, "count"))
                    if (typeof $BigInt !== "undefined" && options.longs === $BigInt)
                        object.count = typeof message.count === "number" ? $BigInt(message.count) : $util.Long.fromBits(message.count.low >>> 0, message.count.high >>> 0, true).toBigInt();
                    else if (typeof message.count === "number")
                        object.count = options.longs === $String ? $String(message.count) : message.count;
                    else
                        object.count = options.longs === $String ? $util.Long.prototype.toString.call(message.count) : options.longs === $Number ? new $util.LongBits(message.count.low >>> 0, message.count.high >>> 0).toNumber(true) : message.count;
                if (message.description != null && $Object.hasOwnProperty.call(message, "description"))
                    object.description = message.description;
                if (message.next && message.next.length) {
                    object.next = $Array(message.next.length);
                    for (let j = 0; j < message.next.length; ++j)
                        object.next[j] = $root.tally.v1.ErrorCode.toObject(message.next[j], options, _depth + 1);
                }
                return object;
            };

            /**
             * Converts this ErrorCode to JSON.
             * @function toJSON
             * @memberof tally.v1.ErrorCode
             * @instance
             * @returns {Object.<string,*>} JSON object
             */
            ErrorCode.prototype.toJSON = function() {
                return ErrorCode.toObject(this, $protobuf.util.toJSONOptions);
            };

            return ErrorCode;
        })();

        /**
         * Period enum.
         * @name tally.v1.Period
         * @enum {number}
         * @property {number} PERIOD_UNSPECIFIED=0 PERIOD_UNSPECIFIED value
         * @property {number} PERIOD_1M=1 PERIOD_1M value
         * @property {number} PERIOD_15M=2 PERIOD_15M value
         */
        v1.Period = (function() {
            const valuesById = $Object.create(null), values = $Object.create(valuesById);
            values[valuesById[0] = "PERIOD_UNSPECIFIED"] = 0;
            values[valuesById[1] = "PERIOD_1M"] = 1;
            values[valuesById[2] = "PERIOD_15M"] = 2;
            return values;
        })();

        v1.Summary = (function() {

            /**
             * Properties of a Summary.
             * @typedef {Object} tally.v1.Summary.$Properties
             * @property {string} [owner] Summary owner
             * @property {string} [processType] Summary processType
             * @property {string} [metric] Summary metric
             * @property {string} [label] Summary label
             * @property {tally.v1.Period} [period] Summary period
             * @property {number} [startMs] Summary startMs
             * @property {number} [count] Summary count
             * @property {number} [sum] Summary sum
             * @property {number} [sumsq] Summary sumsq
             * @property {number} [min] Summary min
             * @property {number} [max] Summary max
             * @property {Uint8Array} [sketch] Summary sketch
             * @property {number} [version] Summary version
             * @property {Array.<Uint8Array>} [$unknowns] Unknown fields preserved while decoding when enabled
             */

            /**
             * Properties of a Summary.
             * @memberof tally.v1
             * @interface ISummary
             * @augments tally.v1.Summary.$Properties
             * @deprecated Use tally.v1.Summary.$Properties instead.
             */

            /**
             * Shape of a Summary.
             * @typedef {tally.v1.Summary.$Properties} tally.v1.Summary.$Shape
             */

            /**
             * Constructs a new Summary.
             * @memberof tally.v1
             * @classdesc Represents a Summary.
             * @constructor
             * @param {tally.v1.Summary.$Properties=} [properties] Properties to set
             * @property {Array.<Uint8Array>} [$unknowns] Unknown fields preserved while decoding when enabled
             */
            const Summary = function (properties) {
                if (properties)
                    for (let keys = $Object.keys(properties), i = 0; i < keys.length; ++i)
                        if (properties[keys[i]] != null && keys[i] !== "__proto__")
                            this[keys[i]] = properties[keys[i]];
            };

            /**
             * Summary owner.
             * @member {string} owner
             * @memberof tally.v1.Summary
             * @instance
             */
            Summary.prototype.owner = "";

            /**
             * Summary processType.
             * @member {string} processType
             * @memberof tally.v1.Summary
             * @instance
             */
            Summary.prototype.processType = "";

            /**
             * Summary metric.
             * @member {string} metric
             * @memberof tally.v1.Summary
             * @instance
             */
            Summary.prototype.metric = "";

            /**
             * Summary label.
             * @member {string} label
             * @memberof tally.v1.Summary
             * @instance
             */
            Summary.prototype.label = "";

            /**
             * Summary period.
             * @member {tally.v1.Period} period
             * @memberof tally.v1.Summary
             * @instance
             */
            Summary.prototype.period = 0;

            /**
             * Summary startMs.
             * @member {number} startMs
             * @memberof tally.v1.Summary
             * @instance
             */
            Summary.prototype.startMs = $util.Long ? $util.Long.fromBits(0,0,false) : 0;

            /**
             * Summary count.
             * @member {number} count
             * @memberof tally.v1.Summary
             * @instance
             */
            Summary.prototype.count = $util.Long ? $util.Long.fromBits(0,0,true) : 0;

            /**
             * Summary sum.
             * @member {number} sum
             * @memberof tally.v1.Summary
             * @instance
             */
            Summary.prototype.sum = 0;

            /**
             * Summary sumsq.
             * @member {number} sumsq
             * @memberof tally.v1.Summary
             * @instance
             */
            Summary.prototype.sumsq = 0;

            /**
             * Summary min.
             * @member {number} min
             * @memberof tally.v1.Summary
             * @instance
             */
            Summary.prototype.min = 0;

            /**
             * Summary max.
             * @member {number} max
             * @memberof tally.v1.Summary
             * @instance
             */
            Summary.prototype.max = 0;

            /**
             * Summary sketch.
             * @member {Uint8Array} sketch
             * @memberof tally.v1.Summary
             * @instance
             */
            Summary.prototype.sketch = $util.newBuffer([]);

            /**
             * Summary version.
             * @member {number} version
             * @memberof tally.v1.Summary
             * @instance
             */
            Summary.prototype.version = $util.Long ? $util.Long.fromBits(0,0,true) : 0;

            /**
             * Creates a new Summary instance using the specified properties.
             * @function create
             * @memberof tally.v1.Summary
             * @static
             * @param {tally.v1.Summary.$Properties=} [properties] Properties to set
             * @returns {tally.v1.Summary} Summary instance
             * @type {{
             *   (properties: tally.v1.Summary.$Shape): tally.v1.Summary & tally.v1.Summary.$Shape;
             *   (properties?: tally.v1.Summary.$Properties): tally.v1.Summary;
             * }}
             */
            Summary.create = function(properties) {
                return new Summary(properties);
            };

            /**
             * Encodes the specified Summary message. Does not implicitly {@link tally.v1.Summary.verify|verify} messages.
             * @function encode
             * @memberof tally.v1.Summary
             * @static
             * @param {tally.v1.Summary.$Properties} message Summary message or plain object to encode
             * @param {$protobuf.Writer} [writer] Writer to encode to
             * @returns {$protobuf.Writer} Writer
             */
            Summary.encode = function (message, writer, _depth) {
                if (!writer)
                    writer = $Writer.create();
                if (_depth === $undefined)
                    _depth = 0;
                if (_depth > $util.recursionLimit)
                    throw $Error("max depth exceeded");
                if (message.owner != null && $Object.hasOwnProperty.call(message, "owner") && message.owner !== "")
                    writer.uint32(/* id 1, wireType 2 =*/10).string(message.owner);
                if (message.processType != null && $Object.hasOwnProperty.call(message, "processType") && message.processType !== "")
                    writer.uint32(/* id 2, wireType 2 =*/18).string(message.processType);
                if (message.metric != null && $Object.hasOwnProperty.call(message, "metric") && message.metric !== "")
                    writer.uint32(/* id 3, wireType 2 =*/26).string(message.metric);
                if (message.label != null && $Object.hasOwnProperty.call(message, "label") && message.label !== "")
                    writer.uint32(/* id 4, wireType 2 =*/34).string(message.label);
                if (message.period != null && $Object.hasOwnProperty.call(message, "period") && message.period !== 0)
                    writer.uint32(/* id 5, wireType 0 =*/40).int32(message.period);
                if (message.startMs != null && $Object.hasOwnProperty.call(message, "startMs") && (typeof message.startMs === "object" ? message.startMs.low || message.startMs.high : message.startMs !== 0))
                    writer.uint32(/* id 6, wireType 0 =*/48).int64(message.startMs);
                if (message.count != null && $Object.hasOwnProperty.call(message, "count") && (typeof message.count === "object" ? message.count.low || message.count.high : message.count !== 0))
                    writer.uint32(/* id 7, wireType 0 =*/56).uint64(message.count);
                if (message.sum != null && $Object.hasOwnProperty.call(message, "sum") && !$Object.is(message.sum, 0))
                    writer.uint32(/* id 8, wireType 1 =*/65).double(message.sum);
                if (message.sumsq != null && $Object.hasOwnProperty.call(message, "sumsq") && !$Object.is(message.sumsq, 0))
                    writer.uint32(/* id 9, wireType 1 =*/73).double(message.sumsq);
                if (message.min != null && $Object.hasOwnProperty.call(message, "min") && !$Object.is(message.min, 0))
                    writer.uint32(/* id 10, wireType 1 =*/81).double(message.min);
                if (message.max != null && $Object.hasOwnProperty.call(message, "max") && !$Object.is(message.max, 0))
                    writer.uint32(/* id 11, wireType 1 =*/89).double(message.max);
                if (message.sketch != null && $Object.hasOwnProperty.call(message, "sketch") && message.sketch.length)
                    writer.uint32(/* id 12, wireType 2 =*/98).bytes(message.sketch);
                if (message.version != null && $Object.hasOwnProperty.call(message, "version") && (typeof message.version === "object" ? message.version.low || message.version.high : message.version !== 0))
                    writer.uint32(/* id 13, wireType 0 =*/104).uint64(message.version);
                if (message.$unknowns != null && $Object.hasOwnProperty.call(message, "$unknowns"))
                    for (let i = 0; i < message.$unknowns.length; ++i)
                        writer.raw(message.$unknowns[i]);
                return writer;
            };

            /**
             * Decodes a Summary message from the specified reader or buffer.
             * @function decode
             * @memberof tally.v1.Summary
             * @static
             * @param {$protobuf.Reader|Uint8Array} reader Reader or buffer to decode from
             * @param {number} [length] Message length if known beforehand
             * @returns {tally.v1.Summary & tally.v1.Summary.$Shape} Summary
             * @throws {Error} If the payload is not a reader or valid buffer
             * @throws {$protobuf.util.ProtocolError} If required fields are missing
             */
            Summary.decode = function (reader, length, _end, _depth, _target) {
                if (!(reader instanceof $Reader))
                    reader = $Reader.create(reader);
                if (_depth === $undefined)
                    _depth = 0;
                if (_depth > $Reader.recursionLimit)
                    throw $Error("max depth exceeded");
                let end, message, value;
                if (length === $undefined)
                    end = reader.len;
                else {
                    end = reader.pos + length;
                    if (end > reader.len)
                        throw $RangeError("index out of range");
                    length = reader.len;
                    reader.len = end;
                }
                message = _target || new $root.tally.v1.Summary();
                while (reader.pos < end) {
                    let start = reader.pos;
                    let tag = reader.tag();
                    if (tag === _end) {
                        _end = $undefined;
                        break;
                    }
                    let wireType = tag & 7;
                    switch (tag >>>= 3) {
                    case 1: {
                            if (wireType !== 2)
                                break;
                            if ((value = reader.stringVerify()).length)
                                message.owner = value;
                            else
                                delete message.owner;
                            continue;
                        }
                    case 2: {
                            if (wireType !== 2)
                                break;
                            if ((value = reader.stringVerify()).length)
                                message.processType = value;
                            else
                                delete message.processType;
                            continue;
                        }
                    case 3: {
                            if (wireType !== 2)
                                break;
                            if ((value = reader.stringVerify()).length)
                                message.metric = value;
                            else
                                delete message.metric;
                            continue;
                        }
                    case 4: {
                            if (wireType !== 2)
                                break;
                            if ((value = reader.stringVerify()).length)
                                message.label = value;
                            else
                                delete message.label;
                            continue;
                        }
                    case 5: {
                            if (wireType !== 0)
                                break;
                            if (value = reader.int32())
                                message.period = value;
                            else
                                delete message.period;
                            continue;
                        }
                    case 6: {
                            if (wireType !== 0)
                                break;
                            if (typeof (value = reader.int64()) === "object" ? value.low || value.high : value !== 0)
                                message.startMs = value;
                            else
                                delete message.startMs;
                            continue;
                        }
                    case 7: {
                            if (wireType !== 0)
                                break;
                            if (typeof (value = reader.uint64()) === "object" ? value.low || value.high : value !== 0)
                                message.count = value;
                            else
                                delete message.count;
                            continue;
                        }
                    case 8: {
                            if (wireType !== 1)
                                break;
                            if (!$Object.is(value = reader.double(), 0))
                                message.sum = value;
                            else
                                delete message.sum;
                            continue;
                        }
                    case 9: {
                            if (wireType !== 1)
                                break;
                            if (!$Object.is(value = reader.double(), 0))
                                message.sumsq = value;
                            else
                                delete message.sumsq;
                            continue;
                        }
                    case 10: {
                            if (wireType !== 1)
                                break;
                            if (!$Object.is(value = reader.double(), 0))
                                message.min = value;
                            else
                                delete message.min;
                            continue;
                        }
                    case 11: {
                            if (wireType !== 1)
                                break;
                            if (!$Object.is(value = reader.double(), 0))
                                message.max = value;
                            else
                                delete message.max;
                            continue;
                        }
                    case 12: {
                            if (wireType !== 2)
                                break;
                            if ((value = reader.bytes()).length)
                                message.sketch = value;
                            else
                                delete message.sketch;
                            continue;
                        }
                    case 13: {
                            if (wireType !== 0)
                                break;
                            if (typeof (value = reader.uint64()) === "object" ? value.low || value.high : value !== 0)
                                message.version = value;
                            else
                                delete message.version;
                            continue;
                        }
                    }
                    reader.skipType(wireType, _depth, tag);
                    if (!reader.discardUnknown) {
                        $util.makeProp(message, "$unknowns", false);
                        (message.$unknowns || (message.$unknowns = [])).push(reader.raw(start, reader.pos));
                    }
                }
                if (length !== $undefined) {
                    if (reader.pos !== end)
                        throw $RangeError("index out of range");
                    reader.len = length;
                }
                if (_end !== $undefined)
                    throw $Error("missing end group");
                return message;
            };

            /**
             * Verifies a Summary message.
             * @function verify
             * @memberof tally.v1.Summary
             * @static
             * @param {Object.<string,*>} message Plain object to verify
             * @returns {string|null} `null` if valid, otherwise the reason why it is not
             */
            Summary.verify = function (message, _depth) {
                if (typeof message !== "object" || message === null)
                    return "object expected";
                if (_depth === $undefined)
                    _depth = 0;
                if (_depth > $util.recursionLimit)
                    return "max depth exceeded";
                if (message.owner != null && $Object.hasOwnProperty.call(message, "owner"))
                    if (!$util.isString(message.owner))
                        return "owner: string expected";
                if (message.processType != null && $Object.hasOwnProperty.call(message, "processType"))
                    if (!$util.isString(message.processType))
                        return "processType: string expected";
                if (message.metric != null && $Object.hasOwnProperty.call(message, "metric"))
                    if (!$util.isString(message.metric))
                        return "metric: string expected";
                if (message.label != null && $Object.hasOwnProperty.call(message, "label"))
                    if (!$util.isString(message.label))
                        return "label: string expected";
                if (message.period != null && $Object.hasOwnProperty.call(message, "period"))
                    if (typeof message.period !== "number" || (message.period | 0) !== message.period)
                        return "period: enum value expected";
                if (message.startMs != null && $Object.hasOwnProperty.call(message, "startMs"))
                    if (!$util.isInteger(message.startMs) && !(message.startMs && $util.isInteger(message.startMs.low) && $util.isInteger(message.startMs.high)))
                        return "startMs: integer|Long expected";
                if (message.count != null && $Object.hasOwnProperty.call(message, "count"))
                    if (!$util.isInteger(message.count) && !(message.count && $util.isInteger(message.count.low) && $util.isInteger(message.count.high)))
                        return "count: integer|Long expected";
                if (message.sum != null && $Object.hasOwnProperty.call(message, "sum"))
                    if (typeof message.sum !== "number")
                        return "sum: number expected";
                if (message.sumsq != null && $Object.hasOwnProperty.call(message, "sumsq"))
                    if (typeof message.sumsq !== "number")
                        return "sumsq: number expected";
                if (message.min != null && $Object.hasOwnProperty.call(message, "min"))
                    if (typeof message.min !== "number")
                        return "min: number expected";
                if (message.max != null && $Object.hasOwnProperty.call(message, "max"))
                    if (typeof message.max !== "number")
                        return "max: number expected";
                if (message.sketch != null && $Object.hasOwnProperty.call(message, "sketch"))
                    if (!(message.sketch && typeof message.sketch.length === "number" || $util.isString(message.sketch)))
                        return "sketch: buffer expected";
                if (message.version != null && $Object.hasOwnProperty.call(message, "version"))
                    if (!$util.isInteger(message.version) && !(message.version && $util.isInteger(message.version.low) && $util.isInteger(message.version.high)))
                        return "version: integer|Long expected";
                return null;
            };

            /**
             * Creates a Summary message from a plain object. Also converts values to their respective internal types.
             * @function fromObject
             * @memberof tally.v1.Summary
             * @static
             * @param {Object.<string,*>} object Plain object
             * @returns {tally.v1.Summary} Summary
             */
            Summary.fromObject = function (object, _depth) {
                if (object instanceof $root.tally.v1.Summary)
                    return object;
                if (!$util.isObject(object))
                    throw $TypeError(".tally.v1.Summary: object expected");
                if (_depth === $undefined)
                    _depth = 0;
                if (_depth > $util.recursionLimit)
                    throw $Error("max depth exceeded");
                let message = new $root.tally.v1.Summary();
                if (object.owner != null)
                    if (typeof object.owner !== "string" || object.owner.length)
                        message.owner = $String(object.owner);
                if (object.processType != null)
                    if (typeof object.processType !== "string" || object.processType.length)
                        message.processType = $String(object.processType);
                if (object.metric != null)
                    if (typeof object.metric !== "string" || object.metric.length)
                        message.metric = $String(object.metric);
                if (object.label != null)
                    if (typeof object.label !== "string" || object.label.length)
                        message.label = $String(object.label);
                if (object.period !== 0 && (typeof object.period !== "string" || $root.tally.v1.Period[object.period] !== 0))
                    switch (object.period) {
                    case "PERIOD_UNSPECIFIED":
                    case 0:
                        message.period = 0;
                        break;
                    case "PERIOD_1M":
                    case 1:
                        message.period = 1;
                        break;
                    case "PERIOD_15M":
                    case 2:
                        message.period = 2;
                        break;
                    default:
                        if (typeof object.period === "number" && (object.period | 0) === object.period)
                            message.period = object.period;
                    }
                if (object.startMs != null)
                    if (typeof object.startMs === "object" ? object.startMs.low || object.startMs.high : $Number(object.startMs) !== 0)
                        if ($util.Long)
                            message.startMs = $util.Long.fromValue(object.startMs, false);
                        else if (typeof object.startMs === "string")
                            message.startMs = $parseInt(object.startMs, 10);
                        else if (typeof object.startMs === "number")
                            message.startMs = object.startMs;
                        else if (typeof object.startMs === "object")
                            message.startMs = new $util.LongBits(object.startMs.low >>> 0, object.startMs.high >>> 0).toNumber();
                if (object.count != null)
                    if (typeof object.count === "object" ? object.count.low || object.count.high : $Number(object.count) !== 0)
                        if ($util.Long)
                            message.count = $util.Long.fromValue(object.count, true);
                        else if (typeof object.count === "string")
                            message.count = $parseInt(object.count, 10);
                        else if (typeof object.count === "number")
                            message.count = object.count;
                        else if (typeof object.count === "object")
                            message.count = new $util.LongBits(object.count.low >>> 0, object.count.high >>> 0).toNumber(true);
                if (object.sum != null)
                    if (!$Object.is($Number(object.sum), 0))
                        message.sum = $Number(object.sum);
                if (object.sumsq != null)
                    if (!$Object.is($Number(object.sumsq), 0))
                        message.sumsq = $Number(object.sumsq);
                if (object.min != null)
                    if (!$Object.is($Number(object.min), 0))
                        message.min = $Number(object.min);
                if (object.max != null)
                    if (!$Object.is($Number(object.max), 0))
                        message.max = $Number(object.max);
                if (object.sketch != null)
                    if (object.sketch.length)
                        if (typeof object.sketch === "string")
                            $util.base64.decode(object.sketch, message.sketch = $util.newBuffer($util.base64.length(object.sketch)), 0);
                        else if (object.sketch.length >= 0)
                            message.sketch = object.sketch;
                if (object.version != null)
                    if (typeof object.version === "object" ? object.version.low || object.version.high : $Number(object.version) !== 0)
                        if ($util.Long)
                            message.version = $util.Long.fromValue(object.version, true);
                        else if (typeof object.version === "string")
                            message.version = $parseInt(object.version, 10);
                        else if (typeof object.version === "number")
                            message.version = object.version;
                        else if (typeof object.version === "object")
                            message.version = new $util.LongBits(object.version.low >>> 0, object.version.high >>> 0).toNumber(true);
                return message;
            };

            /**
             * Creates a plain object from a Summary message. Also converts values to other types if specified.
             * @function toObject
             * @memberof tally.v1.Summary
             * @static
             * @param {tally.v1.Summary} message Summary
             * @param {$protobuf.IConversionOptions} [options] Conversion options
             * @returns {Object.<string,*>} Plain object
             */
            Summary.toObject = function (message, options, _depth) {
                if (!options)
                    options = {};
                if (_depth === $undefined)
                    _depth = 0;
                if (_depth > $util.recursionLimit)
                    throw $Error("max depth exceeded");
                let object = {};
                if (options.defaults) {
                    object.owner = "";
                    object.processType = "";
                    object.metric = "";
                    object.label = "";
                    object.period = options.enums === $String ? "PERIOD_UNSPECIFIED" : 0;
                    if ($util.Long) {
                        let long = new $util.Long(0, 0, false);
                        object.startMs = options.longs === $String ? long.toString() : options.longs === $Number ? long.toNumber() : typeof $BigInt !== "undefined" && options.longs === $BigInt ? long.toBigInt() : long;
                    } else
                        object.startMs = options.longs === $String ? "0" : typeof $BigInt !== "undefined" && options.longs === $BigInt ? $BigInt("0") : 0;
                    if ($util.Long) {
                        let long = new $util.Long(0, 0, true);
                        object.count = options.longs === $String ? long.toString() : options.longs === $Number ? long.toNumber() : typeof $BigInt !== "undefined" && options.longs === $BigInt ? long.toBigInt() : long;
                    } else
                        object.count = options.longs === $String ? "0" : typeof $BigInt !== "undefined" && options.longs === $BigInt ? $BigInt("0") : 0;
                    object.sum = 0;
                    object.sumsq = 0;
                    object.min = 0;
                    object.max = 0;
                    if (options.bytes === $String)
                        object.sketch = "";
                    else {
                        object.sketch = [];
                        if (options.bytes !== $Array)
                            object.sketch = $util.newBuffer(object.sketch);
                    }
                    if ($util.Long) {
                        let long = new $util.Long(0, 0, true);
                        object.version = options.longs === $String ? long.toString() : options.longs === $Number ? long.toNumber() : typeof $BigInt !== "undefined" && options.longs === $BigInt ? long.toBigInt() : long;
                    } else
                        object.version = options.longs === $String ? "0" : typeof $BigInt !== "undefined" && options.longs === $BigInt ? $BigInt("0") : 0;
                }
                if (message.owner != null && $Object.hasOwnProperty.call(message, "owner"))
                    object.owner = message.owner;
                if (message.processType != null && $Object.hasOwnProperty.call(message, "processType"))
                    object.processType = message.processType;
                if (message.metric != null && $Object.hasOwnProperty.call(message, "metric"))
                    object.metric = message.metric;
                if (message.label != null && $Object.hasOwnProperty.call(message, "label"))
                    object.label = message.label;
                if (message.period != null && $Object.hasOwnProperty.call(message, "period"))
                    object.period = options.enums === $String ? $root.tally.v1.Period[message.period] === $undefined ? message.period : $root.tally.v1.Period[message.period] : message.period;
                if (message.startMs != null && $Object.hasOwnProperty.call(message, "startMs"))
                    if (typeof $BigInt !== "undefined" && options.longs === $BigInt)
                        object.startMs = typeof message.startMs === "number" ? $BigInt(message.startMs) : $util.Long.fromBits(message.startMs.low >>> 0, message.startMs.high >>> 0, false).toBigInt();
                    else if (typeof message.startMs === "number")
                        object.startMs = options.longs === $String ? $String(message.startMs) : message.startMs;
                    else
                        object.startMs = options.longs === $String ? $util.Long.prototype.toString.call(message.startMs) : options.longs === $Number ? new $util.LongBits(message.startMs.low >>> 0, message.startMs.high >>> 0).toNumber() : message.startMs;
                if (message.count != null && $Object.hasOwnProperty.call(message, "count"))
                    if (typeof $BigInt !== "undefined" && options.longs === $BigInt)
                        object.count = typeof message.count === "number" ? $BigInt(message.count) : $util.Long.fromBits(message.count.low >>> 0, message.count.high >>> 0, true).toBigInt();
                    else if (typeof message.count === "number")
                        object.count = options.longs === $String ? $String(message.count) : message.count;
                    else
                        object.count = options.longs === $String ? $util.Long.prototype.toString.call(message.count) : options.longs === $Number ? new $util.LongBits(message.count.low >>> 0, message.count.high >>> 0).toNumber(true) : message.count;
                if (message.sum != null && $Object.hasOwnProperty.call(message, "sum"))
                    object.sum = options.json && !$isFinite(message.sum) ? $String(message.sum) : message.sum;
                if (message.sumsq != null && $Object.hasOwnProperty.call(message, "sumsq"))
                    object.sumsq = options.json && !$isFinite(message.sumsq) ? $String(message.sumsq) : message.sumsq;
                if (message.min != null && $Object.hasOwnProperty.call(message, "min"))
                    object.min = options.json && !$isFinite(message.min) ? $String(message.min) : message.min;
                if (message.max != null && $Object.hasOwnProperty.call(message, "max"))
                    object.max = options.json && !$isFinite(message.max) ? $String(message.max) : message.max;
                if (message.sketch != null && $Object.hasOwnProperty.call(message, "sketch"))
                    object.sketch = options.bytes === $String ? $util.base64.encode(message.sketch, 0, message.sketch.length) : options.bytes === $Array ? $Array.prototype.slice.call(message.sketch) : message.sketch;
                if (message.version != null && $Object.hasOwnProperty.call(message, "version"))
                    if (typeof $BigInt !== "undefined" && options.longs === $BigInt)
                        object.version = typeof message.version === "number" ? $BigInt(message.version) : $util.Long.fromBits(message.version.low >>> 0, message.version.high >>> 0, true).toBigInt();
                    else if (typeof message.version === "number")
                        object.version = options.longs === $String ? $String(message.version) : message.version;
                    else
                        object.version = options.longs === $String ? $util.Long.prototype.toString.call(message.version) : options.longs === $Number ? new $util.LongBits(message.version.low >>> 0, message.version.high >>> 0).toNumber(true) : message.version;
                return object;
            };

            /**
             * Converts this Summary to JSON.
             * @function toJSON
             * @memberof tally.v1.Summary
             * @instance
             * @returns {Object.<string,*>} JSON object
             */
            Summary.prototype.toJSON = function() {
                return Summary.toObject(this, $protobuf.util.toJSONOptions);
            };

            return Summary;
        })();

        return v1;
    })();

    return tally;
})();

export {
  $root as default
};
