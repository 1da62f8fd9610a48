//SOURCES FloatTensor.java
//COMPILE_OPTIONS --add-modules=jdk.incubator.vector
//RUNTIME_OPTIONS --add-modules=jdk.incubator.vector
package llm;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

/** 32-bit floats, little-endian: nothing to decode. */
public final class F32Tensor extends FloatTensor {

    F32Tensor(MemorySegment data, long[] shape, long size) {
        super(GgmlType.F32, data, shape, size);
    }

    @Override
    public float getFloat(long index) {
        return data.getAtIndex(F32_LE, index);
    }

    @Override
    void dequantizeBlock(long block, float[] out, int outOffset) {
        out[outOffset] = data.getAtIndex(F32_LE, block);
    }

    @Override
    public void dequantize(long offset, float[] out, int outOffset, int n) {
        checkRange(offset, n, out, outOffset);
        MemorySegment.copy(data, F32_LE, offset * Float.BYTES, out, outOffset, n);
    }

    @Override
    float dotBlocks(long first, float[] x, int xOffset, int n) {
        FloatVector acc = FloatVector.zero(F);
        int i = 0;
        for (int end = F.loopBound(n); i < end; i += F.length()) {
            FloatVector w = FloatVector.fromMemorySegment(F, data, (first + i) * Float.BYTES, ByteOrder.LITTLE_ENDIAN);
            acc = w.fma(FloatVector.fromArray(F, x, xOffset + i), acc);
        }
        float sum = acc.reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) {
            sum += getFloat(first + i) * x[xOffset + i];
        }
        return sum;
    }
}
