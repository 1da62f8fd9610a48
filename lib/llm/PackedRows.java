//SOURCES Parallel.java
//COMPILE_OPTIONS --add-modules=jdk.incubator.vector
//RUNTIME_OPTIONS --add-modules=jdk.incubator.vector
package llm;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.ByteOrder;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * What the integer kernels of Q4_0 and Q8_0 share: weight rows repacked at load time into groups of 16
 * blocks (the 16 fp16 scales first, then the quants interleaved so that each pair of 16-bit lanes holds one
 * block; the same byte count as the file), and the 256-bit vector shapes they are written for (AVX2: 16
 * shorts, 8 ints, 8 floats). llama.cpp's x86 kernels multiply 8-bit integers the same way.
 */
final class PackedRows {

    private PackedRows() {}

    static final VectorSpecies<Byte> B256 = ByteVector.SPECIES_256;
    static final VectorSpecies<Short> S256 = ShortVector.SPECIES_256;
    static final VectorSpecies<Short> S128 = ShortVector.SPECIES_128;
    static final VectorSpecies<Integer> I256 = IntVector.SPECIES_256;
    static final VectorSpecies<Float> F256 = FloatVector.SPECIES_256;

    /**
     * Whether the integer route is used: the CPU has 256-bit vectors (on 128-bit ones the 256-bit shapes
     * would be emulated, far slower than the float kernels); {@code -Dllm.int8=false} turns it off.
     */
    static final boolean ENABLED = FloatVector.SPECIES_PREFERRED.vectorBitSize() >= 256
            && !"false".equals(System.getProperty("llm.int8"));

    /** Whether rows of {@code cols} split into whole groups of 512. */
    static boolean fits(long rows, long cols) {
        return ENABLED && cols > 0 && cols % Q8Activations.GROUP == 0 && rows > 0;
    }

    /**
     * 8 fp16 scales at {@code at} as floats, exactly: the magnitude bits shifted into a float's place read as
     * a float 2^112 times too small, for normal and subnormal halves alike; then the sign. (Infinities and
     * NaNs, which no valid block has, come out as large finite numbers.)
     */
    static FloatVector scales(MemorySegment packed, long at) {
        IntVector h = (IntVector) ShortVector.fromMemorySegment(S128, packed, at, ByteOrder.LITTLE_ENDIAN)
                .convertShape(VectorOperators.S2I, I256, 0);
        FloatVector magnitude = h.and(0x7FFF).lanewise(VectorOperators.LSHL, 13).reinterpretAsFloats().mul(0x1p112f);
        return magnitude.reinterpretAsInts().or(h.and(0x8000).lanewise(VectorOperators.LSHL, 16)).reinterpretAsFloats();
    }

    /**
     * Runs task over rows [0, rows) in tiles of {@code tile} rows that the threads take one after another
     * from a shared counter (as llama.cpp's threads do), instead of one fixed share each: on a busy machine a
     * thread that gets less CPU time then takes fewer tiles rather than keeping the others waiting.
     */
    static void forRowTiles(int rows, int tile, Parallel.RangeTask task) {
        int threads = Parallel.threads();
        if (threads == 1 || rows <= tile) {
            task.run(0, rows);
            return;
        }
        java.util.concurrent.atomic.AtomicInteger next = new java.util.concurrent.atomic.AtomicInteger();
        Parallel.forRange(threads, (a, b) -> {
            for (int r; (r = next.getAndAdd(tile)) < rows; ) task.run(r, Math.min(rows, r + tile));
        });
    }

    /** 64-byte aligned native memory for a repacked matrix, freed when no tensor refers to it any more. */
    static MemorySegment allocate(long bytes) {
        return Arena.ofAuto().allocate(bytes, 64);
    }

    private static final MethodHandle MADVISE = madvise();

    private static MethodHandle madvise() {
        try {
            Linker linker = Linker.nativeLinker();
            return linker.defaultLookup().find("madvise")
                    .map(f -> linker.downcallHandle(f, FunctionDescriptor.of(ValueLayout.JAVA_INT,
                            ValueLayout.ADDRESS, ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT)))
                    .orElse(null);
        } catch (RuntimeException | LinkageError e) {
            return null;
        }
    }

    /**
     * Tells Linux that this process no longer needs the whole pages of a file mapping inside {@code mapped}
     * (MADV_DONTNEED): they leave its resident set; a later read maps them again from the file. A hint only:
     * for other memory, elsewhere, or without native access, nothing happens.
     */
    static void release(MemorySegment mapped) {
        // only a read-only file mapping: on anonymous (or privately written) memory MADV_DONTNEED discards the data
        if (MADVISE == null || !mapped.isMapped() || !mapped.isReadOnly() || !System.getProperty("os.name", "").startsWith("Linux")) return;
        long page = 4096;
        long start = (mapped.address() + page - 1) / page * page;
        long end = (mapped.address() + mapped.byteSize()) / page * page;
        if (end <= start) return;
        try {
            int ignored = (int) MADVISE.invokeExact(MemorySegment.ofAddress(start), end - start, 4 /* MADV_DONTNEED */);
        } catch (Throwable e) {
            // a hint: keep the pages
        }
    }
}
