//SOURCES FloatTensor.java
//COMPILE_OPTIONS --add-modules=jdk.incubator.vector
//RUNTIME_OPTIONS --add-modules=jdk.incubator.vector
package llm;

import java.lang.foreign.MemorySegment;
import java.util.Objects;
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
        float d = f16(data, base);
        return data.get(I8, base + 2 + index % BLOCK) * d;
    }

    @Override
    void dequantizeBlock(long block, float[] out, int outOffset) {
        long base = block * BYTES;
        float d = f16(data, base);
        for (int j = 0; j < BLOCK; j++) {
            out[outOffset + j] = data.get(I8, base + 2 + j) * d;
        }
    }

    @Override
    float dotBlocks(long first, float[] x, int xOffset, int blocks) {
        FloatVector acc = FloatVector.zero(F);
        for (int b = 0; b < blocks; b++) {
            long base = (first + b) * BYTES;
            int xi = xOffset + b * BLOCK;
            // sum q*x over the block first, then scale once by d
            FloatVector blockSum = FloatVector.zero(F);
            for (int k = 0; k < BLOCK; k += L) {
                blockSum = fmaBytes(loadBytes(data, base + 2 + k), x, xi + k, blockSum);
            }
            acc = blockSum.fma(FloatVector.broadcast(F, f16(data, base)), acc);
        }
        return acc.reduceLanes(VectorOperators.ADD);
    }
}
