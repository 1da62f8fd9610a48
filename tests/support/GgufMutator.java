package support;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;

/**
 * Breaks a valid GGUF file in the ways a hostile or damaged file can be broken, for the fuzzer: bit flips,
 * extreme values in structural fields (counts, lengths, type ids, n_dims, dimensions, offsets, the model's
 * hyper-parameters), truncation at section boundaries and anywhere, dimensions whose product overflows,
 * unknown value and tensor types, duplicate names, misaligned or overflowing offsets, strings that are not
 * UTF-8 (or hold line breaks and terminal escapes), bytes inserted or removed.
 *
 * <p>It first walks the valid file (its own small walker, independent of the reader under test, checked
 * against the writer's {@link GgufWriter.Layout}) to learn where every field is, so that each mutation
 * can aim at a field and describe itself in one replayable line, e.g.
 * {@code tensor[3] 'blk.0.attn_qkv.weight' dims[1] (u64 at 812): 96 -> 18446744073709551615}.
 */
public final class GgufMutator {

    /** What a field of the file holds. */
    public enum Kind {
        MAGIC, VERSION, TENSOR_COUNT, KV_COUNT, KEY_LENGTH, KEY, VALUE_TYPE, VALUE, FLOAT, STRING_LENGTH, STRING,
        ARRAY_TYPE, ARRAY_COUNT, NAME_LENGTH, NAME, N_DIMS, DIM, TENSOR_TYPE, OFFSET, PADDING, DATA
    }

    /** One field: its kind, where it is, how many bytes, and a description for messages. */
    public record Field(Kind kind, long offset, int width, String what) {}

    /** A broken file and what was done to it (one line). */
    public record Mutant(byte[] bytes, String description) {}

    private record TensorInfo(String name, Field nameField, Field nDims, Field[] dims, Field type, Field offset) {}

    private static final long[] LONG_EXTREMES = {
        0, 1, 2, 3, -1, Long.MAX_VALUE, Long.MIN_VALUE, Integer.MAX_VALUE, 1L << 31, 0xFFFF_FFFFL, 1L << 32, 1L << 40,
        1L << 62, Long.MAX_VALUE - 31, -32, -4096, 0x7FFF_FFFF_FFFF_FFE0L,
    };
    private static final long[] INT_EXTREMES = {0, 1, 2, 3, 0xFFFF_FFFFL, Integer.MAX_VALUE, 1L << 31, 0xFFFF, 0x10000, 0xFFFF_FFFEL};
    private static final long[] SHORT_EXTREMES = {0, 1, 0xFFFF, 0x7FFF, 0x8000};
    private static final long[] BYTE_EXTREMES = {0, 1, 2, 0xFF, 0x7F, 0x80};
    private static final double[] FLOAT_EXTREMES = {
        Double.NaN, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY, 0.0, -0.0, -1.0, 1e30, 1e-30, Float.MAX_VALUE,
        Float.MIN_VALUE, Double.MAX_VALUE,
    };
    /** Byte sequences that are not UTF-8, and valid ones a message must not print raw (line breaks, escapes). */
    private static final byte[][] BAD_TEXT = {
        {(byte) 0x80}, {(byte) 0xFF}, {(byte) 0xC0, (byte) 0xAF}, {(byte) 0xED, (byte) 0xA0, (byte) 0x80},
        {(byte) 0xF4, (byte) 0x90, (byte) 0x80, (byte) 0x80}, {(byte) 0xC3}, {(byte) 0xE2, (byte) 0x82},
        {'\n'}, {'\r'}, {0}, {0x1B, '[', '2', 'J'}, {(byte) 0xE2, (byte) 0x80, (byte) 0xA8}, {(byte) 0xC2, (byte) 0x85},
    };
    /** Value type ids: the 13 GGUF types and some that are not. */
    private static final long[] VALUE_TYPE_IDS = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 255, 0x7FFF_FFFF, 0xFFFF_FFFFL};
    /** n_dims: the legal 1..4 and the rest. */
    private static final long[] N_DIMS = {0, 1, 2, 3, 4, 5, 16, 0x10000, 0x7FFF_FFFF, 0xFFFF_FFFFL};

    private final byte[] valid;
    private final int alignment;
    private final List<Field> fields = new ArrayList<>();
    private final Map<Kind, List<Field>> byKind = new EnumMap<>(Kind.class);
    private final TreeMap<Long, Field> byOffset = new TreeMap<>();
    private final List<Field> keys = new ArrayList<>();
    private final List<TensorInfo> tensors = new ArrayList<>();
    private final Map<Long, String> sections = new LinkedHashMap<>(); // section boundary -> its name
    private final long structureEnd; // where the tensor data starts
    private final ByteBuffer in;

    public GgufMutator(byte[] valid, GgufWriter.Layout layout) {
        this.valid = valid.clone();
        this.in = ByteBuffer.wrap(this.valid).order(ByteOrder.LITTLE_ENDIAN);
        long tensorCount = in.getLong(8), kvCount = in.getLong(16);
        add(Kind.MAGIC, 0, 4, "magic");
        add(Kind.VERSION, 4, 4, "version");
        add(Kind.TENSOR_COUNT, 8, 8, "tensor count");
        add(Kind.KV_COUNT, 16, 8, "metadata count");
        section(0, "start of file");
        section(4, "version");
        section(8, "tensor count");
        section(16, "metadata count");
        long p = 24;
        section(p, "end of header");
        int align = 32;
        for (int i = 0; i < kvCount; i++) {
            check(layout.keyValueStarts()[i], p, "metadata entry " + i);
            section(p, "metadata entry " + i);
            long length = in.getLong((int) p);
            String key = text(p + 8, length);
            String what = "kv[" + i + "] '" + key + "'";
            add(Kind.KEY_LENGTH, p, 8, what + " key length");
            keys.add(add(Kind.KEY, p + 8, (int) length, what + " key"));
            p += 8 + length;
            int type = in.getInt((int) p);
            add(Kind.VALUE_TYPE, p, 4, what + " value type");
            p += 4;
            section(p, "value of metadata entry " + i);
            if (key.equals("general.alignment")) align = in.getInt((int) p);
            p = value(type, p, what + " value");
        }
        check(layout.metadataEnd(), p, "end of metadata");
        section(p, "end of metadata");
        for (int i = 0; i < tensorCount; i++) {
            check(layout.tensorInfoStarts()[i], p, "tensor info " + i);
            section(p, "tensor info " + i);
            long length = in.getLong((int) p);
            String name = text(p + 8, length);
            String what = "tensor[" + i + "] '" + name + "'";
            add(Kind.NAME_LENGTH, p, 8, what + " name length");
            Field nameField = add(Kind.NAME, p + 8, (int) length, what + " name");
            p += 8 + length;
            int nDims = in.getInt((int) p);
            Field nDimsField = add(Kind.N_DIMS, p, 4, what + " n_dims");
            p += 4;
            Field[] dims = new Field[nDims];
            for (int d = 0; d < nDims; d++, p += 8) dims[d] = add(Kind.DIM, p, 8, what + " dims[" + d + "]");
            Field type = add(Kind.TENSOR_TYPE, p, 4, what + " type");
            Field offset = add(Kind.OFFSET, p + 4, 8, what + " offset");
            p += 12;
            tensors.add(new TensorInfo(name, nameField, nDimsField, dims, type, offset));
        }
        check(layout.tensorInfosEnd(), p, "end of tensor infos");
        section(p, "end of tensor infos");
        alignment = align;
        check(layout.dataStart(), tensorCount == 0 ? p : (p + align - 1) / align * align, "data start");
        if (layout.dataStart() > p) add(Kind.PADDING, p, (int) (layout.dataStart() - p), "padding before the data");
        structureEnd = layout.dataStart();
        section(structureEnd, "start of tensor data");
        long[] starts = layout.tensorDataStarts();
        for (int i = 0; i < starts.length; i++) {
            long end = i + 1 < starts.length ? starts[i + 1] : valid.length;
            section(starts[i], "data of tensor " + i);
            add(Kind.DATA, starts[i], (int) (end - starts[i]), "tensor[" + i + "] '" + tensors.get(i).name() + "' data");
        }
        section(valid.length, "end of file");
    }

    /** Every field of the valid file, in file order. */
    public List<Field> fields() {
        return List.copyOf(fields);
    }

    /** The start of every section (header fields, each metadata entry and its value, each tensor info, the data...). */
    public Map<Long, String> sectionBoundaries() {
        return new LinkedHashMap<>(sections);
    }

    public int size() {
        return valid.length;
    }

    /** The file cut to its first {@code length} bytes. */
    public Mutant truncate(long length, String why) {
        return new Mutant(Arrays.copyOf(valid, (int) length), "truncate to " + length + " of " + valid.length + " bytes (" + why + ")");
    }

    /** Truncations one byte before, at and after every section boundary (shorter than the file). */
    public List<Mutant> boundaryTruncations() {
        List<Mutant> out = new ArrayList<>();
        long last = -1;
        for (var e : sections.entrySet()) {
            for (int delta = -1; delta <= 1; delta++) {
                long at = e.getKey() + delta;
                if (at > last && at >= 0 && at < valid.length) {
                    out.add(truncate(at, (delta < 0 ? "1 byte before " : delta > 0 ? "1 byte after " : "at ") + e.getValue()));
                    last = at;
                }
            }
        }
        return out;
    }

    // ---- random mutations ------------------------------------------------------------------------------

    private enum Op {
        SET_FIELD(24), FLIP_BITS(12), OVERWRITE_BYTES(7), TRUNCATE_AT_FIELD(5), TRUNCATE_ANYWHERE(5), SET_TYPE(8),
        OVERFLOW_DIMS(6), BAD_OFFSET(7), BAD_TEXT(6), DUPLICATE_NAME(4), INSERT_OR_DELETE(5), ALIGNMENT(3), DATA(8);

        final int weight;

        Op(int weight) { this.weight = weight; }
    }

    private static final int TOTAL_WEIGHT = Arrays.stream(Op.values()).mapToInt(o -> o.weight).sum();

    /** One to three mutations chosen by {@code random} (the only source of choice: same random, same mutant). */
    public Mutant mutate(SplittableRandom random) {
        Work w = new Work(valid.clone());
        int n = random.nextInt(8) == 0 ? 2 + random.nextInt(2) : 1;
        for (int i = 0; i < n; i++) {
            Op op = pick(random);
            // a change of length shifts every later field: only the last mutation may do it
            while (i < n - 1 && (op == Op.TRUNCATE_AT_FIELD || op == Op.TRUNCATE_ANYWHERE || op == Op.INSERT_OR_DELETE)) {
                op = pick(random);
            }
            apply(op, random, w);
        }
        return new Mutant(w.bytes, String.join("; ", w.notes));
    }

    private static Op pick(SplittableRandom random) {
        int x = random.nextInt(TOTAL_WEIGHT);
        for (Op op : Op.values()) {
            if ((x -= op.weight) < 0) return op;
        }
        throw new AssertionError();
    }

    /** The bytes being mutated and the notes describing each step. */
    private static final class Work {
        byte[] bytes;
        final List<String> notes = new ArrayList<>();

        Work(byte[] bytes) { this.bytes = bytes; }

        long get(long at, int width) {
            long v = 0;
            for (int i = width - 1; i >= 0; i--) v = v << 8 | (bytes[(int) at + i] & 0xFF);
            return v;
        }

        void set(long at, int width, long value) {
            for (int i = 0; i < width; i++) bytes[(int) at + i] = (byte) (value >>> (8 * i));
        }
    }

    private void apply(Op op, SplittableRandom r, Work w) {
        switch (op) {
            case SET_FIELD -> {
                Kind kind = pickKind(r, Kind.TENSOR_COUNT, Kind.KV_COUNT, Kind.KEY_LENGTH, Kind.VALUE, Kind.FLOAT,
                        Kind.STRING_LENGTH, Kind.ARRAY_COUNT, Kind.NAME_LENGTH, Kind.N_DIMS, Kind.DIM, Kind.OFFSET,
                        Kind.VERSION, Kind.MAGIC);
                Field f = pickField(r, kind);
                if (kind == Kind.FLOAT) {
                    setFloat(w, f, FLOAT_EXTREMES[r.nextInt(FLOAT_EXTREMES.length)]);
                } else {
                    setValue(w, f, extreme(r, f, w.get(f.offset, f.width)));
                }
            }
            case FLIP_BITS -> {
                int flips = 1 + r.nextInt(4);
                List<String> where = new ArrayList<>();
                for (int i = 0; i < flips; i++) {
                    long at = r.nextLong(structureEnd);
                    int bit = r.nextInt(8);
                    w.bytes[(int) at] ^= (byte) (1 << bit);
                    where.add(at + "." + bit + " (" + fieldAt(at).what + ")");
                }
                w.notes.add("flip bit " + String.join(", ", where));
            }
            case OVERWRITE_BYTES -> {
                long at = r.nextLong(structureEnd);
                int n = 1 + r.nextInt(4);
                byte[] b = new byte[n];
                for (int i = 0; i < n; i++) b[i] = (byte) (r.nextBoolean() ? BYTE_EXTREMES[r.nextInt(BYTE_EXTREMES.length)] : r.nextInt(256));
                n = (int) Math.min(n, w.bytes.length - at);
                System.arraycopy(b, 0, w.bytes, (int) at, n);
                w.notes.add("bytes at " + at + " (" + fieldAt(at).what + ") := " + hex(b, n));
            }
            case TRUNCATE_AT_FIELD -> {
                Field f = fields.get(r.nextInt(fields.size()));
                long at = Math.min(f.offset + (r.nextBoolean() ? 0 : r.nextInt(Math.max(1, f.width))), w.bytes.length - 1);
                truncate(w, at, "inside or at " + f.what);
            }
            case TRUNCATE_ANYWHERE -> {
                long at = r.nextInt(4) == 0 ? r.nextLong(w.bytes.length) : r.nextLong(Math.min(structureEnd + 64, w.bytes.length));
                truncate(w, at, "at " + fieldAt(at).what);
            }
            case SET_TYPE -> {
                Kind kind = pickKind(r, Kind.VALUE_TYPE, Kind.ARRAY_TYPE, Kind.TENSOR_TYPE);
                Field f = pickField(r, kind);
                long id = kind == Kind.TENSOR_TYPE
                        ? (r.nextInt(4) == 0 ? INT_EXTREMES[r.nextInt(INT_EXTREMES.length)] : r.nextInt(45))
                        : VALUE_TYPE_IDS[r.nextInt(VALUE_TYPE_IDS.length)];
                setValue(w, f, id);
            }
            case OVERFLOW_DIMS -> {
                TensorInfo t = tensors.get(r.nextInt(tensors.size()));
                long[] dims = overflowingDims(r, t.dims.length, w.get(t.dims[0].offset, 8));
                for (int d = 0; d < dims.length; d++) w.set(t.dims[d].offset, 8, dims[d]);
                w.notes.add("tensor '" + t.name + "' dims := " + unsigned(dims));
            }
            case BAD_OFFSET -> {
                int i = r.nextInt(tensors.size());
                TensorInfo t = tensors.get(i);
                long old = w.get(t.offset.offset, 8);
                long other = w.get(tensors.get(r.nextInt(tensors.size())).offset.offset, 8);
                long fileLeft = valid.length - structureEnd;
                long[] choices = {
                    -1, Long.MIN_VALUE, Long.MAX_VALUE, Long.MAX_VALUE / alignment * alignment, -alignment,
                    (Long.MAX_VALUE - structureEnd) / alignment * alignment + alignment, // data start + offset overflows
                    (fileLeft + alignment - 1) / alignment * alignment, // just past the end
                    old + 1, old + alignment / 2, old - alignment, old + alignment, other, 0,
                    (fileLeft - 1) / alignment * alignment, // inside the file, but the data runs past its end
                };
                setValue(w, t.offset, choices[r.nextInt(choices.length)]);
            }
            case BAD_TEXT -> {
                Kind kind = pickKind(r, Kind.KEY, Kind.NAME, Kind.STRING);
                Field f = pickField(r, kind);
                if (f.width == 0) {
                    f = pickField(r, Kind.KEY);
                }
                byte[] seq = BAD_TEXT[r.nextInt(BAD_TEXT.length)];
                int at = r.nextInt(f.width);
                int n = Math.min(seq.length, f.width - at);
                System.arraycopy(seq, 0, w.bytes, (int) f.offset + at, n);
                w.notes.add(f.what + " byte " + at + " := " + hex(seq, n));
            }
            case DUPLICATE_NAME -> {
                boolean tensorNames = r.nextBoolean();
                List<Field> names = tensorNames ? tensors.stream().map(t -> t.nameField).toList() : keys;
                Field a = names.get(r.nextInt(names.size()));
                List<Field> same = names.stream().filter(b -> b != a && b.width == a.width).toList();
                if (same.isEmpty()) {
                    w.notes.add("no name of the same length as " + a.what + " to duplicate");
                    return;
                }
                Field b = same.get(r.nextInt(same.size()));
                System.arraycopy(w.bytes, (int) a.offset, w.bytes, (int) b.offset, a.width);
                w.notes.add(b.what + " := the name of " + a.what);
            }
            case INSERT_OR_DELETE -> {
                Field f = fields.get(r.nextInt(fields.size()));
                int n = 1 + r.nextInt(r.nextBoolean() ? 8 : 64);
                long at = Math.min(f.offset, w.bytes.length);
                byte[] b = w.bytes;
                if (r.nextBoolean()) {
                    byte[] out = new byte[b.length + n];
                    System.arraycopy(b, 0, out, 0, (int) at);
                    boolean zeros = r.nextBoolean();
                    for (int i = 0; i < n; i++) out[(int) at + i] = zeros ? 0 : (byte) r.nextInt(256);
                    System.arraycopy(b, (int) at, out, (int) at + n, b.length - (int) at);
                    w.bytes = out;
                    w.notes.add("insert " + n + (zeros ? " zero" : " random") + " bytes at " + at + " (before " + f.what + ")");
                } else {
                    n = (int) Math.min(n, b.length - at);
                    byte[] out = new byte[b.length - n];
                    System.arraycopy(b, 0, out, 0, (int) at);
                    System.arraycopy(b, (int) at + n, out, (int) at, b.length - (int) at - n);
                    w.bytes = out;
                    w.notes.add("delete " + n + " bytes at " + at + " (" + f.what + ")");
                }
            }
            case ALIGNMENT -> {
                Field f = fields.stream().filter(x -> x.what.endsWith("'general.alignment' value")).findFirst().orElse(null);
                if (f == null) { // no alignment key: change a tensor offset by a little instead
                    Field o = pickField(r, Kind.OFFSET);
                    setValue(w, o, w.get(o.offset, 8) + 1 + r.nextInt(alignment - 1));
                } else {
                    long[] choices = {0, 1, 2, 3, 16, 48, 64, 128, 4096, 1L << 30, 1L << 31, 0xFFFF_FFFFL};
                    setValue(w, f, choices[r.nextInt(choices.length)]);
                }
            }
            case DATA -> { // garbage weights: NaN, infinities and random scales must not break the kernels
                Field f = pickField(r, Kind.DATA);
                int n = 1 + r.nextInt(16);
                List<String> where = new ArrayList<>();
                for (int i = 0; i < n; i++) {
                    long at = f.offset + r.nextInt(f.width);
                    w.bytes[(int) at] = (byte) (r.nextBoolean() ? 0xFF : r.nextInt(256));
                    where.add(Long.toString(at));
                }
                w.notes.add(f.what + ": " + n + " bytes overwritten at " + String.join(",", where));
            }
        }
    }

    private void truncate(Work w, long at, String why) {
        w.bytes = Arrays.copyOf(w.bytes, (int) at);
        w.notes.add("truncate to " + at + " bytes (" + why + ")");
    }

    private Kind pickKind(SplittableRandom r, Kind... kinds) {
        while (true) { // only kinds the file has
            Kind k = kinds[r.nextInt(kinds.length)];
            if (byKind.containsKey(k)) return k;
        }
    }

    private Field pickField(SplittableRandom r, Kind kind) {
        List<Field> list = byKind.get(kind);
        return list.get(r.nextInt(list.size()));
    }

    /** An extreme value for an integer field, or one near its value. */
    private long extreme(SplittableRandom r, Field f, long old) {
        if (f.kind == Kind.N_DIMS) return N_DIMS[r.nextInt(N_DIMS.length)];
        long[] table = switch (f.width) {
            case 1 -> BYTE_EXTREMES;
            case 2 -> SHORT_EXTREMES;
            case 4 -> INT_EXTREMES;
            default -> LONG_EXTREMES;
        };
        int bits = 8 * f.width;
        return switch (r.nextInt(9)) {
            case 0, 1, 2, 3 -> table[r.nextInt(table.length)];
            case 4 -> old + 1;
            case 5 -> old - 1;
            case 6 -> old * 2;
            case 7 -> old ^ (1L << r.nextInt(bits));
            default -> f.width == 8 && r.nextBoolean() ? valid.length - f.offset + r.nextInt(3) - 1 : r.nextLong();
        };
    }

    /** Dimensions whose element count (or byte size) overflows a long, or is zero, or absurdly large. */
    private static long[] overflowingDims(SplittableRandom r, int n, long first) {
        long[] d = new long[n];
        Arrays.fill(d, 1);
        switch (r.nextInt(7)) {
            case 0 -> { d[0] = 1L << 32; if (n > 1) d[1] = 1L << 32; else d[0] = 1L << 63; }
            case 1 -> { d[0] = first; if (n > 1) d[1] = Long.MAX_VALUE / Math.max(1, first) + 1; else d[0] = first << 56; }
            case 2 -> { d[0] = 1L << 31; if (n > 1) d[1] = 1L << 30; else d[0] = 1L << 61; } // 2^61 floats: bytes overflow
            case 3 -> d[0] = 0;
            case 4 -> { d[0] = first; if (n > 1) d[1] = 0; else d[0] = -first; }
            case 5 -> { d[0] = 256L << 32; if (n > 1) d[1] = 1L << 24; } // a whole number of any block, 2^64 in all
            default -> { d[0] = first; if (n > 1) d[1] = 1L << 40; else d[0] = first << 40; }
        }
        return d;
    }

    private void setValue(Work w, Field f, long value) {
        long old = w.get(f.offset, f.width);
        w.set(f.offset, f.width, value);
        long now = w.get(f.offset, f.width);
        w.notes.add(f.what + " (u" + 8 * f.width + " at " + f.offset + "): " + unsigned(old, f.width) + " -> " + unsigned(now, f.width));
    }

    private void setFloat(Work w, Field f, double value) {
        w.set(f.offset, f.width, f.width == 4 ? Float.floatToRawIntBits((float) value) : Double.doubleToRawLongBits(value));
        w.notes.add(f.what + " (float" + 8 * f.width + " at " + f.offset + ") := " + value);
    }

    private static String unsigned(long v, int width) {
        return width == 8 ? Long.toUnsignedString(v) : Long.toString(v);
    }

    private static String unsigned(long[] v) {
        StringBuilder sb = new StringBuilder("[");
        for (int i = 0; i < v.length; i++) sb.append(i > 0 ? ", " : "").append(Long.toUnsignedString(v[i]));
        return sb.append(']').toString();
    }

    private static String hex(byte[] b, int n) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < n; i++) sb.append(i > 0 ? " " : "").append(String.format("%02X", b[i]));
        return sb.toString();
    }

    /** The field at a byte offset (for describing a mutation). */
    private Field fieldAt(long at) {
        var e = byOffset.floorEntry(at);
        return e == null || at >= e.getValue().offset + Math.max(1, e.getValue().width)
                ? new Field(Kind.DATA, at, 0, "byte " + at) : e.getValue();
    }

    // ---- the walker ---------------------------------------------------------------------------------

    private long value(int type, long p, String what) {
        return switch (type) {
            case 0, 1, 7 -> { add(Kind.VALUE, p, 1, what); yield p + 1; }
            case 2, 3 -> { add(Kind.VALUE, p, 2, what); yield p + 2; }
            case 4, 5 -> { add(Kind.VALUE, p, 4, what); yield p + 4; }
            case 6 -> { add(Kind.FLOAT, p, 4, what); yield p + 4; }
            case 10, 11 -> { add(Kind.VALUE, p, 8, what); yield p + 8; }
            case 12 -> { add(Kind.FLOAT, p, 8, what); yield p + 8; }
            case 8 -> {
                long length = in.getLong((int) p);
                add(Kind.STRING_LENGTH, p, 8, what + " length");
                add(Kind.STRING, p + 8, (int) length, what);
                yield p + 8 + length;
            }
            case 9 -> {
                int elementType = in.getInt((int) p);
                long count = in.getLong((int) p + 4);
                add(Kind.ARRAY_TYPE, p, 4, what + " element type");
                add(Kind.ARRAY_COUNT, p + 4, 8, what + " element count");
                long q = p + 12;
                for (long i = 0; i < count; i++) q = value(elementType, q, what + "[" + i + "]");
                yield q;
            }
            default -> throw new IllegalArgumentException("not a valid file: value type " + type + " at " + p);
        };
    }

    private Field add(Kind kind, long offset, int width, String what) {
        Field f = new Field(kind, offset, width, what);
        fields.add(f);
        byKind.computeIfAbsent(kind, k -> new ArrayList<>()).add(f);
        if (width > 0) byOffset.put(offset, f);
        return f;
    }

    private void section(long at, String name) {
        sections.putIfAbsent(at, name);
    }

    private String text(long at, long length) {
        return new String(valid, (int) at, (int) length, StandardCharsets.UTF_8);
    }

    private static void check(long expected, long actual, String what) {
        if (expected != actual) {
            throw new IllegalStateException("walker and writer disagree on the " + what + ": " + actual + " vs " + expected);
        }
    }
}
