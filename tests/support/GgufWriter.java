package support;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import llm.GgmlType;
import llm.Gguf.ValueType;

/**
 * Writes GGUF files for tests: any metadata, tensors given as floats (quantized here with {@link Quantize})
 * or as ready bytes, GGUF version 3 by default (2 on request), any alignment.
 *
 * <pre>
 * new GgufWriter()
 *     .put("general.architecture", "phi3")          // string
 *     .put("phi3.block_count", 2)                    // int: uint32, the type GGUF uses for counts
 *     .put("phi3.rope.freq_base", 10000f)            // float: float32
 *     .putArray("tokenizer.ggml.tokens", tokens)     // String[]
 *     .tensor("token_embd.weight", GgmlType.Q8_0, new long[] {64, 512}, values)
 *     .write(path);
 * </pre>
 *
 * Files follow the layout llama.cpp writes and expects: tensor data in table order, each tensor padded
 * to the alignment, offsets relative to the (aligned) data start. For hostile-file tests the writer also
 * writes what a reader must refuse: {@link #rawKeyValue} (any type id, any payload, duplicate keys),
 * {@link #rawTensor} (any type id and dimensions, duplicate names), {@link #tensorOffset} (any offset),
 * and {@link #layout()} tells where each section of the last file starts, for truncating or patching it.
 * Note llama.cpp does not accept nested arrays: keep them out of files meant for llama.cpp.
 */
public final class GgufWriter {

    /** A value for an array of arrays: the inner array's element type and values (see {@link #putArray(String, ValueType, List)}). */
    public record Array(ValueType elementType, List<?> values) {}

    /** Where the sections of the last written file start (byte offsets). */
    public record Layout(long headerEnd, long[] keyValueStarts, long metadataEnd, long[] tensorInfoStarts,
                         long tensorInfosEnd, long dataStart, long[] tensorDataStarts, long end) {}

    private record Entry(String key, int typeId, byte[] payload, boolean raw) {}

    private record Tensor(String name, int typeId, long[] dims, byte[] data, Long offset) {}

    private int version = 3;
    private int alignment = 32;
    private final List<Entry> entries = new ArrayList<>();
    private final List<Tensor> tensors = new ArrayList<>();
    private Layout layout;

    /** GGUF version number written in the header (2 and 3 share the layout; other numbers make refused files). */
    public GgufWriter version(int version) {
        this.version = version;
        return this;
    }

    /** Data alignment; also written as general.alignment (uint32). */
    public GgufWriter alignment(int alignment) {
        if (alignment <= 0) {
            throw new IllegalArgumentException("alignment must be positive");
        }
        this.alignment = alignment;
        return putUint32("general.alignment", alignment);
    }

    // ---- metadata: convenience putters -------------------------------------------------------------------

    public GgufWriter put(String key, String value) { return putString(key, value); }

    /** uint32, the type GGUF files use for counts and sizes; negative values need {@link #putInt32}. */
    public GgufWriter put(String key, int value) {
        if (value < 0) {
            throw new IllegalArgumentException(key + ": put(int) writes uint32; use putInt32 for " + value);
        }
        return putUint32(key, value);
    }

    /** uint64; negative values need {@link #putInt64}. */
    public GgufWriter put(String key, long value) {
        if (value < 0) {
            throw new IllegalArgumentException(key + ": put(long) writes uint64; use putInt64 for " + value);
        }
        return putUint64(key, value);
    }

    public GgufWriter put(String key, float value) { return putFloat32(key, value); }

    public GgufWriter put(String key, double value) { return putFloat64(key, value); }

    public GgufWriter put(String key, boolean value) { return putBool(key, value); }

    // ---- metadata: typed putters (a later put of the same key replaces the earlier one) -------------------

    public GgufWriter putUint8(String key, int value) { return scalar(key, ValueType.UINT8, value); }

    public GgufWriter putInt8(String key, int value) { return scalar(key, ValueType.INT8, value); }

    public GgufWriter putUint16(String key, int value) { return scalar(key, ValueType.UINT16, value); }

    public GgufWriter putInt16(String key, int value) { return scalar(key, ValueType.INT16, value); }

    /** uint32; values above 2^31 - 1 are given as a long. */
    public GgufWriter putUint32(String key, long value) { return scalar(key, ValueType.UINT32, value); }

    public GgufWriter putInt32(String key, int value) { return scalar(key, ValueType.INT32, value); }

    /** uint64 with the bits of {@code value} (so -1 writes 2^64 - 1). */
    public GgufWriter putUint64(String key, long value) { return scalar(key, ValueType.UINT64, value); }

    public GgufWriter putInt64(String key, long value) { return scalar(key, ValueType.INT64, value); }

    public GgufWriter putFloat32(String key, float value) { return scalar(key, ValueType.FLOAT32, value); }

    public GgufWriter putFloat64(String key, double value) { return scalar(key, ValueType.FLOAT64, value); }

    public GgufWriter putBool(String key, boolean value) { return scalar(key, ValueType.BOOL, value); }

    public GgufWriter putString(String key, String value) { return scalar(key, ValueType.STRING, value); }

    // ---- metadata: arrays ----------------------------------------------------------------------------

    public GgufWriter putArray(String key, String... values) { return putArray(key, ValueType.STRING, Arrays.asList(values)); }

    /** float32 array (e.g. tokenizer.ggml.scores). */
    public GgufWriter putArray(String key, float[] values) {
        List<Object> list = new ArrayList<>();
        for (float v : values) list.add(v);
        return putArray(key, ValueType.FLOAT32, list);
    }

    /** int32 array (e.g. tokenizer.ggml.token_type). */
    public GgufWriter putArray(String key, int[] values) {
        List<Object> list = new ArrayList<>();
        for (int v : values) list.add(v);
        return putArray(key, ValueType.INT32, list);
    }

    /**
     * An array of any element type: numbers (any Number, written as elementType), Booleans, Strings, or,
     * for {@code ValueType.ARRAY}, {@link Array} values (arrays of arrays, nested as deep as you like).
     */
    public GgufWriter putArray(String key, ValueType elementType, List<?> values) {
        Buf b = new Buf();
        writeArray(b, elementType, values);
        return entry(key, ValueType.ARRAY.id(), b.bytes(), false);
    }

    /**
     * Appends a metadata entry exactly as given: any value type id and payload bytes (what follows the
     * type id in the file), without replacing an earlier entry of the same key. For hostile files.
     */
    public GgufWriter rawKeyValue(String key, int typeId, byte[] payload) {
        entries.add(new Entry(key, typeId, payload.clone(), true));
        return this;
    }

    /** A GGUF string: uint64 byte length, then the UTF-8 bytes (a payload for {@link #rawKeyValue}). */
    public static byte[] stringBytes(String s) {
        return stringBytes(s.getBytes(StandardCharsets.UTF_8));
    }

    /** A GGUF string of arbitrary bytes (e.g. invalid UTF-8). */
    public static byte[] stringBytes(byte[] utf8) {
        return ByteBuffer.allocate(8 + utf8.length).order(ByteOrder.LITTLE_ENDIAN).putLong(utf8.length).put(utf8).array();
    }

    // ---- tensors -------------------------------------------------------------------------------------

    /**
     * A tensor from floats, quantized to {@code type} by {@link Quantize} (ggml's reference quantizers).
     * shape is in ggml order: shape[0] is the row length (a multiple of the type's block size).
     */
    public GgufWriter tensor(String name, GgmlType type, long[] shape, float[] values) {
        long n = 1;
        for (long d : shape) n = Math.multiplyExact(n, d);
        if (n != values.length) {
            throw new IllegalArgumentException(name + ": shape " + Arrays.toString(shape) + " has " + n
                    + " elements, got " + values.length + " values");
        }
        if (shape[0] % type.blockSize() != 0) {
            throw new IllegalArgumentException(name + ": row length " + shape[0] + " is not a multiple of the "
                    + type + " block size " + type.blockSize());
        }
        return tensorBytes(name, type, shape, Quantize.quantize(type, values));
    }

    /** A tensor from bytes already in {@code type}'s layout. */
    public GgufWriter tensorBytes(String name, GgmlType type, long[] shape, byte[] data) {
        for (Tensor t : tensors) {
            if (t.name.equals(name)) {
                throw new IllegalArgumentException("tensor '" + name + "' was already added (rawTensor makes duplicates)");
            }
        }
        tensors.add(new Tensor(name, type.id(), shape.clone(), data.clone(), null));
        return this;
    }

    /** Appends a tensor exactly as given: any type id, any dimensions, any bytes, duplicate names allowed. */
    public GgufWriter rawTensor(String name, int typeId, long[] dims, byte[] data) {
        tensors.add(new Tensor(name, typeId, dims.clone(), data.clone(), null));
        return this;
    }

    /** Writes {@code offset} as the data offset of (the first) tensor {@code name}, instead of where its data is. */
    public GgufWriter tensorOffset(String name, long offset) {
        for (int i = 0; i < tensors.size(); i++) {
            Tensor t = tensors.get(i);
            if (t.name.equals(name)) {
                tensors.set(i, new Tensor(t.name, t.typeId, t.dims, t.data, offset));
                return this;
            }
        }
        throw new IllegalArgumentException("no tensor '" + name + "'");
    }

    // ---- output --------------------------------------------------------------------------------------

    public Path write(Path path) {
        try {
            Files.write(path, toBytes());
            return path;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public byte[] toBytes() {
        Buf b = new Buf();
        b.putInt(0x46554747); // "GGUF"
        b.putInt(version);
        b.putLong(tensors.size());
        b.putLong(entries.size());
        long headerEnd = b.position();
        long[] kvStarts = new long[entries.size()];
        for (int i = 0; i < entries.size(); i++) {
            Entry e = entries.get(i);
            kvStarts[i] = b.position();
            b.putString(e.key);
            b.putInt(e.typeId);
            b.put(e.payload);
        }
        long metadataEnd = b.position();
        long[] infoStarts = new long[tensors.size()];
        long[] relative = new long[tensors.size()];
        long next = 0;
        for (int i = 0; i < tensors.size(); i++) {
            Tensor t = tensors.get(i);
            relative[i] = next;
            next = align(next + t.data.length);
        }
        for (int i = 0; i < tensors.size(); i++) {
            Tensor t = tensors.get(i);
            infoStarts[i] = b.position();
            b.putString(t.name);
            b.putInt(t.dims.length);
            for (long d : t.dims) b.putLong(d);
            b.putInt(t.typeId);
            b.putLong(t.offset != null ? t.offset : relative[i]);
        }
        long infosEnd = b.position();
        long dataStart = tensors.isEmpty() ? infosEnd : align(infosEnd);
        b.pad(dataStart);
        long[] dataStarts = new long[tensors.size()];
        for (int i = 0; i < tensors.size(); i++) {
            dataStarts[i] = dataStart + relative[i];
            b.pad(dataStarts[i]);
            b.put(tensors.get(i).data);
        }
        if (!tensors.isEmpty()) {
            b.pad(dataStart + next); // llama.cpp reads each tensor's padded size, the last one's too
        }
        layout = new Layout(headerEnd, kvStarts, metadataEnd, infoStarts, infosEnd, dataStart, dataStarts, b.position());
        return b.bytes();
    }

    /** Section offsets of the file from the last {@link #toBytes()} or {@link #write(Path)}. */
    public Layout layout() {
        if (layout == null) {
            throw new IllegalStateException("write the file first");
        }
        return layout;
    }

    // ---- encoding ------------------------------------------------------------------------------------

    private long align(long offset) {
        return (offset + alignment - 1) / alignment * alignment;
    }

    private GgufWriter scalar(String key, ValueType type, Object value) {
        Buf b = new Buf();
        writeValue(b, type, value);
        return entry(key, type.id(), b.bytes(), false);
    }

    private GgufWriter entry(String key, int typeId, byte[] payload, boolean raw) {
        Entry e = new Entry(key, typeId, payload, raw);
        for (int i = 0; i < entries.size(); i++) {
            if (!entries.get(i).raw && entries.get(i).key.equals(key)) {
                entries.set(i, e);
                return this;
            }
        }
        entries.add(e);
        return this;
    }

    private static void writeArray(Buf b, ValueType elementType, List<?> values) {
        b.putInt(elementType.id());
        b.putLong(values.size());
        for (Object v : values) {
            writeValue(b, elementType, v);
        }
    }

    private static void writeValue(Buf b, ValueType type, Object v) {
        switch (type) {
            case UINT8, INT8 -> b.put((byte) ((Number) v).intValue());
            case UINT16, INT16 -> b.putShort((short) ((Number) v).intValue());
            case UINT32, INT32 -> b.putInt((int) ((Number) v).longValue());
            case UINT64, INT64 -> b.putLong(((Number) v).longValue());
            case FLOAT32 -> b.putFloat(((Number) v).floatValue());
            case FLOAT64 -> b.putDouble(((Number) v).doubleValue());
            case BOOL -> b.put((byte) ((Boolean) v ? 1 : 0));
            case STRING -> b.putString((String) v);
            case ARRAY -> {
                Array a = (Array) v;
                writeArray(b, a.elementType(), a.values());
            }
        }
    }

    /** A growable little-endian byte buffer that reads like the format: putInt, putLong, putString... */
    private static final class Buf {
        private final ByteArrayOutputStream out = new ByteArrayOutputStream();
        private final ByteBuffer scratch = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);

        long position() { return out.size(); }

        void put(byte v) { out.write(v); }

        void put(byte[] v) { out.writeBytes(v); }

        void putShort(short v) { scratch.clear(); scratch.putShort(v); out.write(scratch.array(), 0, 2); }

        void putInt(int v) { scratch.clear(); scratch.putInt(v); out.write(scratch.array(), 0, 4); }

        void putLong(long v) { scratch.clear(); scratch.putLong(v); out.write(scratch.array(), 0, 8); }

        void putFloat(float v) { putInt(Float.floatToRawIntBits(v)); }

        void putDouble(double v) { putLong(Double.doubleToRawLongBits(v)); }

        void putString(String s) { put(stringBytes(s)); }

        void pad(long to) { while (out.size() < to) out.write(0); }

        byte[] bytes() { return out.toByteArray(); }
    }
}
