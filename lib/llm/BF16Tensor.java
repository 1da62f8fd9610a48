//SOURCES FloatTensor.java
//COMPILE_OPTIONS --add-modules=jdk.incubator.vector
//RUNTIME_OPTIONS --add-modules=jdk.incubator.vector
package llm;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/** bfloat16: the upper 16 bits of a float32, little-endian. */
public final class BF16Tensor extends FloatTensor {

    private static final VectorSpecies<Short> S = VectorSpecies.of(short.class, VectorShape.forBitSize(F.length() * 16));
    private static final VectorSpecies<Integer> I = F.withLanes(int.class);

    BF16Tensor(MemorySegment data, long[] shape, long size) {
        super(GgmlType.BF16, data, shape, size);
    }

    @Override
    public float getFloat(long index) {
        return Float.intBitsToFloat(data.getAtIndex(I16_LE, index) << 16);
    }

    @Override
    void dequantizeBlock(long block, float[] out, int outOffset) {
        out[outOffset] = getFloat(block);
    }

    @Override
    public void dequantize(long offset, float[] out, int outOffset, int n) {
        checkRange(offset, n, out, outOffset);
        for (int i = 0; i < n; i++) {
            out[outOffset + i] = Float.intBitsToFloat(data.getAtIndex(I16_LE, offset + i) << 16);
        }
    }

    @Override
    float dotBlocks(long first, float[] x, int xOffset, int n) {
        FloatVector acc = FloatVector.zero(F);
        int i = 0;
        for (int end = F.loopBound(n); i < end; i += F.length()) {
            ShortVector h = ShortVector.fromMemorySegment(S, data, (first + i) * 2, ByteOrder.LITTLE_ENDIAN);
            // widening sign-extends; the shift by 16 pushes those extra bits out again
            FloatVector w = ((IntVector) h.convertShape(VectorOperators.S2I, I, 0))
                    .lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
            acc = w.fma(FloatVector.fromArray(F, x, xOffset + i), acc);
        }
        float sum = acc.reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) {
            sum += getFloat(first + i) * x[xOffset + i];
        }
        return sum;
    }
}
