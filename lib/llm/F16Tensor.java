//SOURCES FloatTensor.java
//COMPILE_OPTIONS --add-modules=jdk.incubator.vector
//RUNTIME_OPTIONS --add-modules=jdk.incubator.vector
package llm;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/** IEEE half precision (1 sign, 5 exponent, 10 mantissa bits), little-endian. */
public final class F16Tensor extends FloatTensor {

    private static final VectorSpecies<Short> S = VectorSpecies.of(short.class, VectorShape.forBitSize(F.length() * 16));
    private static final VectorSpecies<Integer> I = F.withLanes(int.class);

    F16Tensor(MemorySegment data, long[] shape, long size) {
        super(GgmlType.F16, data, shape, size);
    }

    @Override
    public float getFloat(long index) {
        return Float.float16ToFloat(data.getAtIndex(I16_LE, index));
    }

    @Override
    void dequantizeBlock(long block, float[] out, int outOffset) {
        out[outOffset] = getFloat(block);
    }

    @Override
    public void dequantize(long offset, float[] out, int outOffset, int n) {
        checkRange(offset, n, out, outOffset);
        for (int i = 0; i < n; i++) {
            out[outOffset + i] = Float.float16ToFloat(data.getAtIndex(I16_LE, offset + i));
        }
    }

    @Override
    float dotBlocks(long first, float[] x, int xOffset, int n) {
        FloatVector acc = FloatVector.zero(F);
        int i = 0;
        for (int end = F.loopBound(n); i < end; i += F.length()) {
            ShortVector h = ShortVector.fromMemorySegment(S, data, (first + i) * 2, ByteOrder.LITTLE_ENDIAN);
            acc = toFloats(h).fma(FloatVector.fromArray(F, x, xOffset + i), acc);
        }
        float sum = acc.reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) {
            sum += getFloat(first + i) * x[xOffset + i];
        }
        return sum;
    }

    /**
     * Half to float without a lookup table: put the 15 magnitude bits where a float keeps them (shift by
     * 13) and multiply by 2^112 to move the exponent bias from 15 to 127. That is exact for normal and
     * subnormal halves; infinities and NaNs (exponent 31) get the float's all-ones exponent instead.
     */
    static FloatVector toFloats(ShortVector h) {
        IntVector bits = (IntVector) h.convertShape(VectorOperators.S2I, I, 0);
        IntVector abs = bits.and(0x7FFF);
        IntVector sign = bits.and(0x8000).lanewise(VectorOperators.LSHL, 16);
        IntVector shifted = abs.lanewise(VectorOperators.LSHL, 13);
        IntVector finite = shifted.reinterpretAsFloats().mul(0x1p112f).reinterpretAsInts();
        VectorMask<Integer> special = abs.compare(VectorOperators.GE, 0x7C00);
        return finite.blend(shifted.or(0x7F800000), special).or(sign).reinterpretAsFloats();
    }
}
