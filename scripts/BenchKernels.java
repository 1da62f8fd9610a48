///usr/bin/env jbang "$0" "$@" ; exit $?
//JAVA 25+
//DESCRIPTION JMH micro-benchmarks of each tensor type's matrix-vector kernel (Phi-3-mini's 3072-wide rows).
//DEPS org.openjdk.jmh:jmh-core:1.37
//DEPS org.openjdk.jmh:jmh-generator-annprocess:1.37
//SOURCES ../lib/llm/FloatTensor.java
//COMPILE_OPTIONS --add-modules=jdk.incubator.vector -proc:full
//RUNTIME_OPTIONS --add-modules=jdk.incubator.vector
package bench;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import llm.FloatTensor;
import llm.GgmlType;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.options.CommandLineOptions;

/**
 * The matrix-vector product of each type on one thread, 3072-wide rows (Phi-3-mini's hidden size), rows
 * either cache-sized (256 rows: the kernel's arithmetic) or larger than the caches (8192 rows: memory).
 * Reports GB/s of weights read (bytes / time) via the "ns per op" JMH prints; pass JMH options after
 * the alias, e.g. {@code ./jbang bench-kernels -p type=Q4_0 -p rows=256}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector"})
public class BenchKernels {

    @Param({"F32", "F16", "BF16", "Q8_0", "Q4_0", "Q4_K", "Q5_K", "Q6_K"})
    public String type;

    @Param({"256", "8192"})
    public int rows;

    static final int COLS = 3072;
    FloatTensor w;
    float[] x, out;

    @Setup
    public void setup() {
        FloatTensor.setThreads(1);
        GgmlType t = GgmlType.valueOf(type);
        w = FloatTensor.of(t, randomBlocks(t, (long) rows * COLS), new long[] {COLS, rows});
        SplittableRandom r = new SplittableRandom(2);
        x = new float[COLS];
        for (int i = 0; i < COLS; i++) x[i] = (float) r.nextGaussian();
        out = new float[rows];
    }

    @Benchmark
    public float[] matVec() {
        w.matVec(x, 0, out, 0, rows, COLS);
        return out;
    }

    /** Random bytes that are valid blocks: finite floats, small scales. */
    public static MemorySegment randomBlocks(GgmlType t, long elements) {
        SplittableRandom r = new SplittableRandom(1);
        MemorySegment m = Arena.ofAuto().allocate(t.byteSize(elements), 64);
        for (long i = 0; i < m.byteSize(); i++) m.set(ValueLayout.JAVA_BYTE, i, (byte) r.nextInt());
        long blocks = elements / t.blockSize();
        int bpb = t.bytesPerBlock();
        for (long b = 0; b < blocks; b++) {
            long at = b * bpb;
            switch (t) {
                case F32 -> m.set(ValueLayout.JAVA_FLOAT_UNALIGNED, at, (float) r.nextGaussian() * 0.02f);
                case F16 -> m.set(ValueLayout.JAVA_SHORT_UNALIGNED, at, Float.floatToFloat16((float) r.nextGaussian() * 0.02f));
                case BF16 -> m.set(ValueLayout.JAVA_SHORT_UNALIGNED, at, (short) (Float.floatToIntBits((float) r.nextGaussian() * 0.02f) >>> 16));
                case Q4_0, Q8_0 -> m.set(ValueLayout.JAVA_SHORT_UNALIGNED, at, Float.floatToFloat16(0.001f));
                case Q4_K, Q5_K -> {
                    m.set(ValueLayout.JAVA_SHORT_UNALIGNED, at, Float.floatToFloat16(0.001f));
                    m.set(ValueLayout.JAVA_SHORT_UNALIGNED, at + 2, Float.floatToFloat16(0.001f));
                }
                case Q6_K -> m.set(ValueLayout.JAVA_SHORT_UNALIGNED, at + 208, Float.floatToFloat16(0.001f));
            }
        }
        return m;
    }

    /** JMH's own command line (e.g. {@code -p type=Q4_0 -f 1}); --help shows it, a wrong option exits 2 with the usage. */
    public static void main(String[] args) throws Exception {
        if (args.length == 1 && (args[0].equals("--help") || args[0].equals("-h"))) {
            System.out.println("Usage: bench-kernels [JMH options] (default: every type's kernel)");
            new CommandLineOptions("-h").showHelp();
            return;
        }
        CommandLineOptions options;
        try {
            options = new CommandLineOptions(args.length == 0 ? new String[] {BenchKernels.class.getSimpleName()} : args);
        } catch (org.openjdk.jmh.runner.options.CommandLineOptionException e) {
            System.err.println("bench-kernels: Unknown option: '" + String.join(" ", args) + "' (" + e.getMessage() + ")");
            System.err.println("Usage: bench-kernels [JMH options]; ./jbang bench-kernels --help lists them");
            System.exit(2);
            return;
        }
        new Runner(options).run();
    }
}
