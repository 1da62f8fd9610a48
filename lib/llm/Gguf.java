//SOURCES GgufException.java
//SOURCES GgmlType.java
//SOURCES FloatTensor.java
//COMPILE_OPTIONS --add-modules=jdk.incubator.vector
//RUNTIME_OPTIONS --add-modules=jdk.incubator.vector
package llm;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.CharBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A GGUF file (llama.cpp's model format, versions 2 and 3), memory-mapped read-only.
 *
 * <pre>
 * header   "GGUF", uint32 version, uint64 tensor count, uint64 metadata count
 * metadata key (string), uint32 value type, value          ... metadata count times
 * tensors  name (string), uint32 n_dims, uint64 dims[n_dims], uint32 ggml type, uint64 offset   ... tensor count times
 * padding  to general.alignment (default 32)
 * data     each tensor at data start + offset (a multiple of the alignment)
 * </pre>
 * Strings are a uint64 byte length and UTF-8 bytes; everything is little-endian.
 *
 * <p>The file is untrusted input. Every count, length, offset and size is checked against the bytes
 * actually left in the file before it is used to read or allocate anything, all size arithmetic is
 * overflow-checked, and every problem becomes a {@link GgufException} whose one-line message names the
 * file and the reason. Tensor data is never copied: {@link #tensor} wraps a slice of the memory map.
 *
 * <p>Metadata values are boxed in the Java type of the same width: uint8/int8 as Byte, uint16/int16 as
 * Short, uint32/int32 as Integer, uint64/int64 as Long (unsigned values keep their bits, as in
 * {@code Integer.toUnsignedLong}; the typed getters below interpret them), float32 as Float, float64 as
 * Double, bool as Boolean, string as String. Arrays of numbers or bools are primitive arrays of those
 * types (byte[], short[], int[], long[], float[], double[], boolean[]), arrays of strings a List of
 * String, arrays of arrays a List of such arrays. {@link #valueType} tells the GGUF type of a key.
 */
public final class Gguf implements AutoCloseable {

    public static final int DEFAULT_ALIGNMENT = 32;
    private static final int MAGIC = 0x46554747; // "GGUF" read as a little-endian uint32
    private static final int MAX_DIMS = 4;
    private static final int MAX_ARRAY_NESTING = 8;

    /** GGUF metadata value types, with their ids in the file. */
    public enum ValueType {
        UINT8(0, 1), INT8(1, 1), UINT16(2, 2), INT16(3, 2), UINT32(4, 4), INT32(5, 4), FLOAT32(6, 4),
        BOOL(7, 1), STRING(8, 8), ARRAY(9, 12), UINT64(10, 8), INT64(11, 8), FLOAT64(12, 8);

        private final int id;
        /** The fewest bytes one value of this type can take in a file (a string: its length field). */
        private final int minBytes;

        ValueType(int id, int minBytes) {
            this.id = id;
            this.minBytes = minBytes;
        }

        public int id() { return id; }

        /** The type with this id, or null. */
        public static ValueType byId(int id) {
            return id >= 0 && id < values().length ? values()[id] : null;
        }

        boolean isInteger() {
            return switch (this) {
                case UINT8, INT8, UINT16, INT16, UINT32, INT32, UINT64, INT64 -> true;
                default -> false;
            };
        }

        boolean isUnsigned() {
            return this == UINT8 || this == UINT16 || this == UINT32 || this == UINT64;
        }

        @Override
        public String toString() {
            return name().toLowerCase();
        }
    }

    /**
     * One entry of the tensor table. shape is in ggml order (shape[0] = row length); offset is absolute in
     * the file (already checked to lie inside it); byteSize is what the type and shape need.
     */
    public record TensorInfo(String name, GgmlType type, long[] shape, long offset, long byteSize) {
        public TensorInfo {
            shape = shape.clone();
        }

        @Override
        public long[] shape() {
            return shape.clone();
        }

        public long elementCount() {
            long n = 1;
            for (long d : shape) {
                n *= d; // checked for overflow when the file was read
            }
            return n;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof TensorInfo t && name.equals(t.name) && type == t.type && Arrays.equals(shape, t.shape)
                    && offset == t.offset && byteSize == t.byteSize;
        }

        @Override
        public int hashCode() {
            return name.hashCode() * 31 + Arrays.hashCode(shape);
        }

        @Override
        public String toString() {
            return name + " " + type + Arrays.toString(shape) + " at " + offset + " (" + byteSize + " bytes)";
        }
    }

    private final Path path;
    private final String fileName;
    private final long fileSize;
    private final Arena arena;
    private final MemorySegment file;
    private final int version;
    private final int alignment;
    private final long dataStart;
    private final Map<String, Object> metadata;
    private final Map<String, ValueType> types;
    private final Map<String, ValueType> elementTypes; // of the arrays
    private final Map<String, TensorInfo> tensors;
    private boolean closed;

    private Gguf(Path path, String fileName, long fileSize, Arena arena, MemorySegment file, int version, int alignment,
                 long dataStart, Map<String, Object> metadata, Map<String, ValueType> types, Map<String, ValueType> elementTypes,
                 Map<String, TensorInfo> tensors) {
        this.path = path;
        this.fileName = fileName;
        this.fileSize = fileSize;
        this.arena = arena;
        this.file = file;
        this.version = version;
        this.alignment = alignment;
        this.dataStart = dataStart;
        this.metadata = Collections.unmodifiableMap(metadata);
        this.types = Collections.unmodifiableMap(types);
        this.elementTypes = Collections.unmodifiableMap(elementTypes);
        this.tensors = Collections.unmodifiableMap(tensors);
    }

    /** Maps and parses the file; GgufException for anything wrong with it (including I/O errors). */
    public static Gguf open(Path file) {
        Path name = file.getFileName();
        String fileName = name != null ? name.toString() : file.toString();
        if (!Files.exists(file)) {
            throw new GgufException(fileName + ": file not found (" + file + ")");
        }
        if (!Files.isRegularFile(file)) {
            throw new GgufException(fileName + ": not a regular file (" + file + ")");
        }
        Arena arena = Arena.ofShared();
        try {
            MemorySegment segment;
            long size;
            try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
                size = channel.size();
                if (size < 4) {
                    throw new GgufException(fileName + ": not a GGUF file (only " + size + " bytes)");
                }
                segment = channel.map(FileChannel.MapMode.READ_ONLY, 0, size, arena);
            }
            Gguf gguf = new Parser(file, fileName, segment, arena).parse();
            arena = null; // now owned by gguf
            return gguf;
        } catch (IOException e) {
            throw new GgufException(fileName + ": cannot read: " + e, e);
        } finally {
            if (arena != null) {
                arena.close();
            }
        }
    }

    public int version() { return version; }

    public Path path() { return path; }

    public long fileSize() { return fileSize; }

    /** general.alignment, or 32 when the file does not say. */
    public int alignment() { return alignment; }

    /** Byte offset in the file where tensor data starts. */
    public long dataStart() { return dataStart; }

    /** All metadata in file order (see the class comment for the Java types of the values). */
    public Map<String, Object> metadata() { return metadata; }

    /** Tensor table in file order. */
    public Map<String, TensorInfo> tensors() { return tensors; }

    public boolean has(String key) {
        return metadata.containsKey(key);
    }

    /** The GGUF type of a key's value (for an array: ARRAY); GgufException when missing. */
    public ValueType valueType(String key) {
        require(key);
        return types.get(key);
    }

    /** For an array: the GGUF type of its elements; GgufException when missing or not an array. */
    public ValueType arrayType(String key) {
        Object v = require(key);
        if (types.get(key) != ValueType.ARRAY) {
            throw wrongType(key, "an array");
        }
        return elementTypes.get(key);
    }

    public String getString(String key) {
        Object v = require(key);
        if (!(v instanceof String s)) {
            throw wrongType(key, "a string");
        }
        return s;
    }

    public String getString(String key, String defaultValue) {
        return has(key) ? getString(key) : defaultValue;
    }

    /** Any integer type whose value fits in an int. */
    public int getInt(String key) {
        long v = integer(key);
        if (v < Integer.MIN_VALUE || v > Integer.MAX_VALUE) {
            throw new GgufException(fileName + ": metadata key '" + key + "' = " + describe(key) + " does not fit in an int");
        }
        return (int) v;
    }

    public int getInt(String key, int defaultValue) {
        return has(key) ? getInt(key) : defaultValue;
    }

    /** Any integer type whose value fits in a long (a uint64 above 2^63 - 1 does not). */
    public long getLong(String key) {
        return integer(key);
    }

    public long getLong(String key, long defaultValue) {
        return has(key) ? getLong(key) : defaultValue;
    }

    /** float32, float64 (rounded) or an integer type (converted). */
    public float getFloat(String key) {
        return (float) getDouble(key);
    }

    public float getFloat(String key, float defaultValue) {
        return has(key) ? getFloat(key) : defaultValue;
    }

    public double getDouble(String key) {
        Object v = require(key);
        return switch (v) {
            case Float f -> f;
            case Double d -> d;
            default -> {
                if (!types.get(key).isInteger()) {
                    throw wrongType(key, "a number");
                }
                yield types.get(key) == ValueType.UINT64 && (Long) v < 0
                        ? Double.parseDouble(Long.toUnsignedString((Long) v)) : integer(key);
            }
        };
    }

    public double getDouble(String key, double defaultValue) {
        return has(key) ? getDouble(key) : defaultValue;
    }

    public boolean getBoolean(String key) {
        Object v = require(key);
        if (!(v instanceof Boolean b)) {
            throw wrongType(key, "a bool");
        }
        return b;
    }

    public boolean getBoolean(String key, boolean defaultValue) {
        return has(key) ? getBoolean(key) : defaultValue;
    }

    /** An array of strings. */
    public List<String> getStrings(String key) {
        Object v = require(key);
        if (types.get(key) != ValueType.ARRAY || elementTypes.get(key) != ValueType.STRING) {
            throw wrongType(key, "an array of strings");
        }
        @SuppressWarnings("unchecked")
        List<String> list = (List<String>) v;
        return list;
    }

    /** An array of float32 (a copy). */
    public float[] getFloats(String key) {
        if (!(require(key) instanceof float[] a)) {
            throw wrongType(key, "an array of float32");
        }
        return a.clone();
    }

    /** An array of int32 or uint32 (a copy; uint32 values keep their bits). */
    public int[] getInts(String key) {
        if (!(require(key) instanceof int[] a)) {
            throw wrongType(key, "an array of int32 or uint32");
        }
        return a.clone();
    }

    /** The tensor's data as a FloatTensor over the memory map; GgufException if there is no such tensor. */
    public FloatTensor tensor(String name) {
        TensorInfo info = tensors.get(name);
        if (info == null) {
            throw new GgufException(fileName + ": tensor '" + name + "' not found");
        }
        synchronized (this) {
            if (closed) {
                throw new IllegalStateException(fileName + " is closed");
            }
        }
        return FloatTensor.of(info.type(), file.asSlice(info.offset(), info.byteSize()), info.shape());
    }

    /** Unmaps the file; tensors obtained from it must not be used afterwards. */
    @Override
    public synchronized void close() {
        if (!closed) {
            closed = true;
            arena.close();
        }
    }

    @Override
    public String toString() {
        return fileName + " (GGUF v" + version + ", " + metadata.size() + " metadata keys, " + tensors.size() + " tensors)";
    }

    // ---- getters' helpers ----------------------------------------------------------------------------

    private Object require(String key) {
        Object v = metadata.get(key);
        if (v == null) {
            throw new GgufException(fileName + ": metadata key '" + key + "' is missing");
        }
        return v;
    }

    private long integer(String key) {
        Object v = require(key);
        ValueType t = types.get(key);
        if (!t.isInteger()) {
            throw wrongType(key, "an integer");
        }
        long value = ((Number) v).longValue();
        if (t.isUnsigned()) {
            value = switch (t) {
                case UINT8 -> value & 0xFFL;
                case UINT16 -> value & 0xFFFFL;
                case UINT32 -> value & 0xFFFF_FFFFL;
                default -> value;
            };
            if (value < 0) {
                throw new GgufException(fileName + ": metadata key '" + key + "' = " + describe(key) + " does not fit in a long");
            }
        }
        return value;
    }

    private GgufException wrongType(String key, String wanted) {
        return new GgufException(fileName + ": metadata key '" + key + "' is " + describe(key) + ", not " + wanted);
    }

    private String describe(String key) {
        ValueType t = types.get(key);
        Object v = metadata.get(key);
        if (t == ValueType.ARRAY) {
            return "an array of " + elementTypes.get(key);
        }
        String text = switch (t) {
            case UINT8 -> Integer.toString(Byte.toUnsignedInt((Byte) v));
            case UINT16 -> Integer.toString(Short.toUnsignedInt((Short) v));
            case UINT32 -> Integer.toUnsignedString((Integer) v);
            case UINT64 -> Long.toUnsignedString((Long) v);
            case STRING -> "\"" + (((String) v).length() > 40 ? ((String) v).substring(0, 40) + "..." : v) + "\"";
            default -> String.valueOf(v);
        };
        return t + " " + text;
    }

    /**
     * A key, tensor name or string value from the file as a message shows it: a hostile file's "name" can be
     * megabytes of anything, so control characters become escapes (as in every GgufException) and the result
     * is cut to about 60 characters.
     */
    static String shown(String name) {
        String s = GgufException.oneLine(name);
        if (s.length() <= 64) {
            return s;
        }
        int cut = 60;
        int escape = s.lastIndexOf('\\', cut - 1);
        if (escape >= 0 && escape > cut - 6) {
            cut = escape; // not inside an escape
        }
        if (Character.isHighSurrogate(s.charAt(cut - 1))) {
            cut--;
        }
        return s.substring(0, cut) + "... (" + name.length() + " characters)";
    }

    // ---- the parser ----------------------------------------------------------------------------------

    /** Reads the header, metadata and tensor table, checking each step against the file's length. */
    private static final class Parser {
        private static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
        private static final ValueLayout.OfLong U64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
        private static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
        private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
        private static final ValueLayout.OfDouble F64 = ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

        private final Path path;
        private final String fileName;
        private final MemorySegment seg;
        private final Arena arena;
        private final long size;
        private final CharsetDecoder utf8 = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        private long pos;

        Parser(Path path, String fileName, MemorySegment seg, Arena arena) {
            this.path = path;
            this.fileName = fileName;
            this.seg = seg;
            this.arena = arena;
            this.size = seg.byteSize();
        }

        Gguf parse() {
            try {
                return parseChecked();
            } catch (ArithmeticException | IndexOutOfBoundsException | IllegalArgumentException e) {
                // every size is checked before use; this is the safety net that keeps the promise of one exception type
                throw fail("malformed file at byte " + pos + " (" + e.getMessage() + ")");
            }
        }

        private Gguf parseChecked() {
            int magic = seg.get(U32, 0);
            if (magic != MAGIC) {
                throw fail("not a GGUF file (starts with " + hex(seg, 0, 4) + ", expected 47 47 55 46 \"GGUF\")");
            }
            pos = 4;
            int version = u32("the version");
            if (version != 2 && version != 3) {
                String hint = version == 1 ? " (version 1 files predate the current layout; convert them with llama.cpp)"
                        : Integer.toUnsignedLong(version) > 0xFFFF ? " (a big-endian file?)" : "";
                throw fail("unsupported GGUF version " + Integer.toUnsignedString(version)
                        + "; this reader supports versions 2 and 3" + hint);
            }
            long tensorCount = u64("the tensor count");
            long kvCount = u64("the metadata count");
            // the smallest entry: key length 8 + type 4 + a 1-byte value; a tensor: name length 8 + n_dims 4 + one dim 8 + type 4 + offset 8
            checkCount(kvCount, 13, "metadata entries");
            checkCount(tensorCount, 32, "tensors");

            Map<String, Object> metadata = new LinkedHashMap<>();
            Map<String, ValueType> types = new HashMap<>();
            Map<String, ValueType> elementTypes = new HashMap<>();
            for (long i = 0; i < kvCount; i++) {
                long at = pos;
                String key = string("the key of metadata entry " + i);
                if (metadata.containsKey(key)) {
                    throw fail("duplicate metadata key '" + shown(key) + "' at byte " + at);
                }
                String what = "metadata key '" + shown(key) + "'";
                ValueType type = valueType(u32("the value type of " + what), what);
                if (type == ValueType.ARRAY) { // remember what the array holds (uint8 and int8 both become byte[])
                    need(4, "the element type of " + what);
                    ValueType et = ValueType.byId(seg.get(U32, pos));
                    if (et != null) {
                        elementTypes.put(key, et);
                    }
                }
                Object value = value(type, what, 0);
                metadata.put(key, value);
                types.put(key, type);
            }

            int alignment = alignment(metadata, types);

            Map<String, TensorInfo> tensors = new LinkedHashMap<>();
            for (int i = 0; i < tensorCount; i++) {
                long at = pos;
                String name = string("the name of tensor " + i);
                if (tensors.containsKey(name)) {
                    throw fail("duplicate tensor name '" + shown(name) + "' at byte " + at);
                }
                String what = "tensor '" + shown(name) + "'";
                long nDims = Integer.toUnsignedLong(u32("the dimension count of " + what));
                if (nDims < 1 || nDims > MAX_DIMS) {
                    throw fail(what + " has " + nDims + " dimensions (1 to " + MAX_DIMS + " allowed)");
                }
                long[] shape = new long[(int) nDims];
                long elements = 1;
                for (int d = 0; d < nDims; d++) {
                    shape[d] = u64("dimension " + d + " of " + what);
                    if (shape[d] < 0) {
                        throw fail(what + " dimension " + d + " is " + Long.toUnsignedString(shape[d]) + ", too large");
                    }
                }
                for (long d : shape) {
                    try {
                        elements = Math.multiplyExact(elements, d);
                    } catch (ArithmeticException e) {
                        throw fail(what + " has shape " + Arrays.toString(shape) + " whose element count overflows");
                    }
                }
                int typeId = u32("the type of " + what);
                GgmlType type = GgmlType.byId(typeId).orElseThrow(
                        () -> fail(what + " has unsupported type " + GgmlType.describe(typeId)));
                if (shape[0] % type.blockSize() != 0) {
                    throw fail(what + " row length " + shape[0] + " is not a multiple of the " + type + " block size "
                            + type.blockSize());
                }
                long byteSize;
                try {
                    byteSize = type.byteSize(elements);
                } catch (ArithmeticException e) {
                    throw fail(what + " " + type + Arrays.toString(shape) + " is too large");
                }
                long offset = u64("the data offset of " + what);
                if (offset < 0) {
                    throw fail(what + " data offset " + Long.toUnsignedString(offset) + " is beyond any file");
                }
                if (offset % alignment != 0) {
                    throw fail(what + " data offset " + offset + " is not a multiple of the alignment " + alignment);
                }
                tensors.put(name, new TensorInfo(name, type, shape, offset, byteSize));
            }

            long dataStart = alignUp(pos, alignment);
            if (tensorCount > 0 && dataStart > size) {
                throw fail("truncated: tensor data would start at byte " + dataStart + " but the file has " + size + " bytes");
            }
            Map<String, TensorInfo> placed = new LinkedHashMap<>();
            for (TensorInfo t : tensors.values()) {
                long start, end;
                try {
                    start = Math.addExact(dataStart, t.offset());
                    end = Math.addExact(start, t.byteSize());
                } catch (ArithmeticException e) {
                    throw fail("tensor '" + shown(t.name()) + "' data offset " + t.offset() + " is beyond any file");
                }
                if (end > size) {
                    throw fail("tensor '" + shown(t.name()) + "' data [" + start + ", " + end + ") lies outside the file ("
                            + size + " bytes)" + (start < size ? ": the file is truncated" : ""));
                }
                placed.put(t.name(), new TensorInfo(t.name(), t.type(), t.shape, start, t.byteSize()));
            }
            return new Gguf(path, fileName, size, arena, seg, version, alignment, dataStart, metadata, types, elementTypes, placed);
        }

        private int alignment(Map<String, Object> metadata, Map<String, ValueType> types) {
            Object v = metadata.get("general.alignment");
            if (v == null) {
                return DEFAULT_ALIGNMENT;
            }
            ValueType t = types.get("general.alignment");
            if (!t.isInteger()) {
                throw fail("general.alignment is " + t + ", not an integer");
            }
            long a = ((Number) v).longValue();
            if (t == ValueType.UINT32) {
                a = Integer.toUnsignedLong((Integer) v);
            } else if (t == ValueType.UINT16) {
                a = Short.toUnsignedInt((Short) v);
            } else if (t == ValueType.UINT8) {
                a = Byte.toUnsignedInt((Byte) v);
            }
            if (a <= 0 || Long.bitCount(a) != 1 || a > (1 << 30)) {
                throw fail("general.alignment " + (t == ValueType.UINT64 ? Long.toUnsignedString(a) : a)
                        + " is not a power of two between 1 and 2^30");
            }
            return (int) a;
        }

        private long alignUp(long offset, long alignment) {
            try {
                return Math.addExact(offset, alignment - 1) / alignment * alignment;
            } catch (ArithmeticException e) {
                throw fail("offset " + offset + " overflows when aligned");
            }
        }

        private void checkCount(long count, long minBytesEach, String what) {
            long left = size - pos;
            if (count < 0 || count > left / minBytesEach) {
                throw fail("claims " + Long.toUnsignedString(count) + " " + what + ", impossible in the " + left
                        + " bytes left after the header");
            }
        }

        private ValueType valueType(int id, String what) {
            ValueType t = ValueType.byId(id);
            if (t == null) {
                throw fail(what + " has unknown value type " + Integer.toUnsignedString(id));
            }
            return t;
        }

        private Object value(ValueType type, String what, int depth) {
            return switch (type) {
                case UINT8, INT8 -> { need(1, what); yield seg.get(ValueLayout.JAVA_BYTE, pos++); }
                case UINT16, INT16 -> { need(2, what); short v = seg.get(U16, pos); pos += 2; yield v; }
                case UINT32, INT32 -> u32(what);
                case UINT64, INT64 -> u64(what);
                case FLOAT32 -> { need(4, what); float v = seg.get(F32, pos); pos += 4; yield v; }
                case FLOAT64 -> { need(8, what); double v = seg.get(F64, pos); pos += 8; yield v; }
                case BOOL -> bool(what);
                case STRING -> string(what);
                case ARRAY -> array(what, depth + 1);
            };
        }

        private boolean bool(String what) {
            need(1, what);
            byte b = seg.get(ValueLayout.JAVA_BYTE, pos);
            if (b != 0 && b != 1) {
                throw fail(what + ": bool at byte " + pos + " is " + (b & 0xFF) + ", neither 0 nor 1");
            }
            pos++;
            return b == 1;
        }

        private Object array(String what, int depth) {
            if (depth > MAX_ARRAY_NESTING) {
                throw fail(what + ": arrays nested more than " + MAX_ARRAY_NESTING + " deep");
            }
            ValueType et = valueType(u32("the element type of " + what), what + " (array element)");
            long count = u64("the element count of " + what);
            long left = size - pos;
            if (count < 0 || count > left / et.minBytes) {
                String needs = count < 0 || count > Long.MAX_VALUE / et.minBytes ? "more than 2^63"
                        : "at least " + count * et.minBytes;
                throw fail(what + ": array of " + Long.toUnsignedString(count) + " " + et + " needs " + needs
                        + " bytes, only " + left + " left at byte " + pos);
            }
            if (count > Integer.MAX_VALUE - 16) {
                throw fail(what + ": array of " + count + " elements is too large");
            }
            int n = (int) count;
            long bytes = count * et.minBytes;
            return switch (et) {
                case UINT8, INT8 -> { byte[] a = new byte[n]; MemorySegment.copy(seg, ValueLayout.JAVA_BYTE, pos, a, 0, n); pos += bytes; yield a; }
                case UINT16, INT16 -> { short[] a = new short[n]; MemorySegment.copy(seg, U16, pos, a, 0, n); pos += bytes; yield a; }
                case UINT32, INT32 -> { int[] a = new int[n]; MemorySegment.copy(seg, U32, pos, a, 0, n); pos += bytes; yield a; }
                case UINT64, INT64 -> { long[] a = new long[n]; MemorySegment.copy(seg, U64, pos, a, 0, n); pos += bytes; yield a; }
                case FLOAT32 -> { float[] a = new float[n]; MemorySegment.copy(seg, F32, pos, a, 0, n); pos += bytes; yield a; }
                case FLOAT64 -> { double[] a = new double[n]; MemorySegment.copy(seg, F64, pos, a, 0, n); pos += bytes; yield a; }
                case BOOL -> {
                    boolean[] a = new boolean[n];
                    for (int i = 0; i < n; i++) {
                        a[i] = bool(what + " element " + i);
                    }
                    yield a;
                }
                case STRING -> {
                    Object[] a = new Object[n];
                    for (int i = 0; i < n; i++) {
                        a[i] = string(what + " element " + i);
                    }
                    yield Collections.unmodifiableList(Arrays.asList(a));
                }
                case ARRAY -> {
                    Object[] a = new Object[n];
                    for (int i = 0; i < n; i++) {
                        a[i] = array(what + " element " + i, depth + 1);
                    }
                    yield Collections.unmodifiableList(Arrays.asList(a));
                }
            };
        }

        private String string(String what) {
            long lengthAt = pos;
            long length = u64("the length of " + what);
            long left = size - pos;
            if (length < 0 || length > left) {
                throw fail(what + ": string length " + Long.toUnsignedString(length) + " at byte " + lengthAt
                        + " exceeds the " + left + " bytes left in the file");
            }
            if (length > Integer.MAX_VALUE - 16) {
                throw fail(what + ": string of " + length + " bytes is too long");
            }
            if (length == 0) {
                return "";
            }
            try {
                CharBuffer chars = utf8.reset().decode(seg.asSlice(pos, length).asByteBuffer());
                pos += length;
                return chars.toString();
            } catch (CharacterCodingException e) {
                throw fail(what + ": string at byte " + pos + " is not valid UTF-8");
            }
        }

        private int u32(String what) {
            need(4, what);
            int v = seg.get(U32, pos);
            pos += 4;
            return v;
        }

        private long u64(String what) {
            need(8, what);
            long v = seg.get(U64, pos);
            pos += 8;
            return v;
        }

        private void need(long n, String what) {
            if (n > size - pos) {
                throw fail("truncated at byte " + pos + " of " + size + " while reading " + what);
            }
        }

        private GgufException fail(String reason) {
            return new GgufException(fileName + ": " + reason);
        }

        private static String hex(MemorySegment seg, long from, int n) {
            StringBuilder sb = new StringBuilder();
            for (int i = 0; i < n; i++) {
                sb.append(i > 0 ? " " : "").append(String.format("%02X", seg.get(ValueLayout.JAVA_BYTE, from + i)));
            }
            return sb.toString();
        }
    }
}
