//SOURCES FloatTensor.java
//COMPILE_OPTIONS --add-modules=jdk.incubator.vector
//RUNTIME_OPTIONS --add-modules=jdk.incubator.vector
package llm;

import java.lang.foreign.MemorySegment;
import java.util.Objects;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

/**
 * Q8_0: blocks of 32 values, each block an fp16 scale d followed by 32 signed bytes q;
 * value = q * d. (ggml's block_q8_0, 34 bytes.)
 */
public final class Q8_0Tensor extends FloatTensor {

    static final int BLOCK = 32;
    static final int BYTES = 34;

    Q8_0Tensor(MemorySegment data, long[] shape, long size) {
        super(GgmlType.Q8_0, data, shape, size);
    }

    @Override
    public float getFloat(long index) {
        Objects.checkIndex(index, size);
        long base = index / BLOCK * BYTES;
        return data.get(I8, base + 2 + index % BLOCK) * f16(data, base);
    }

    @Override
    void dequantizeBlock(long block, float[] out, int outOffset) {
        long base = block * BYTES;
        FloatVector d = FloatVector.broadcast(F, f16(data, base));
        for (int k = 0; k < BLOCK; k += L) {
            ByteVector q = loadBytes(data, base + 2 + k);
            for (int p = 0; p < PARTS; p++) widen(q, p).mul(d).intoArray(out, outOffset + k + p * F.length());
        }
    }

    /**
     * Per block: sum q * x over its 32 values first, then one multiply by d. With 512-bit vectors, written
     * out as Q4_0's kernel is (see there why): the loop over blocks the only loop, two blocks per step
     * into two accumulators. Other vector sizes: {@link #dotBlocksAnyWidth}.
     */
    @Override
    float dotBlocks(long first, float[] x, int xOffset, int blocks) {
        if (L != 16) return dotBlocksAnyWidth(first, x, xOffset, blocks);
        FloatVector acc0 = FloatVector.zero(F), acc1 = acc0;
        long base = first * BYTES;
        int b = 0, xi = xOffset;
        for (; b + 2 <= blocks; b += 2, base += 2 * BYTES, xi += 2 * BLOCK) {
            FloatVector sum0 = widen(loadBytes(data, base + 2), 0).mul(FloatVector.fromArray(F, x, xi));
            sum0 = widen(loadBytes(data, base + 18), 0).fma(FloatVector.fromArray(F, x, xi + 16), sum0);
            acc0 = sum0.fma(FloatVector.broadcast(F, f16(data, base)), acc0);
            FloatVector sum1 = widen(loadBytes(data, base + BYTES + 2), 0).mul(FloatVector.fromArray(F, x, xi + BLOCK));
            sum1 = widen(loadBytes(data, base + BYTES + 18), 0).fma(FloatVector.fromArray(F, x, xi + BLOCK + 16), sum1);
            acc1 = sum1.fma(FloatVector.broadcast(F, f16(data, base + BYTES)), acc1);
        }
        float sum = acc0.add(acc1).reduceLanes(VectorOperators.ADD);
        return b < blocks ? sum + dotBlocksAnyWidth(first + b, x, xi, 1) : sum; // an odd last block
    }

    /** {@link #dotBlocks} for any vector size: a block's 32 bytes in loads of L, one block at a time. */
    float dotBlocksAnyWidth(long first, float[] x, int xOffset, int blocks) {
        FloatVector acc = FloatVector.zero(F);
        long base = first * BYTES;
        for (int b = 0, xi = xOffset; b < blocks; b++, base += BYTES, xi += BLOCK) {
            FloatVector blockSum = FloatVector.zero(F);
            for (int k = 0; k < BLOCK; k += L) {
                blockSum = fmaBytes(loadBytes(data, base + 2 + k), x, xi + k, blockSum);
            }
            acc = blockSum.fma(FloatVector.broadcast(F, f16(data, base)), acc);
        }
        return acc.reduceLanes(VectorOperators.ADD);
    }
}
