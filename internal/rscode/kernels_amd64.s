//go:build amd64 && !purego

#include "textflag.h"

// Planar shards: each 64-byte block holds the low bytes of 32 elements, then their high
// bytes. n is the shard length in bytes, a positive multiple of 64.

// ---- AVX-512 + GFNI ----
// A block [lo | hi] in Z0 is multiplied by applying, per 64-bit lane, the affine matrices
// [A A A A D D D D] to [lo | hi] and [B B B B C C C C] to the swapped [hi | lo]; the XOR of
// the two is [A·lo ^ B·hi | D·hi ^ C·lo], the product in the same layout.

// GFNI_MUL(src, tmp, out): out = src · m, with the matrices in Z30, Z31.
#define GFNI_MUL(src, tmp, out) \
	VSHUFI64X2     $0x4e, src, src, tmp \
	VGF2P8AFFINEQB $0, Z30, src, out    \
	VGF2P8AFFINEQB $0, Z31, tmp, tmp    \
	VPXORQ         tmp, out, out

#define GFNI_LOAD_MATS \
	MOVQ      mats+24(FP), AX \
	VMOVDQU64 (AX), Z30       \
	VMOVDQU64 64(AX), Z31

// GFNI_MULADD(dst, src, ma, mb): dst ^= src · m; clobbers Z4, Z5.
#define GFNI_MULADD(dst, src, ma, mb) \
	VSHUFI64X2     $0x4e, src, src, Z4 \
	VGF2P8AFFINEQB $0, ma, src, Z5     \
	VGF2P8AFFINEQB $0, mb, Z4, Z4      \
	VPTERNLOGQ     $0x96, Z4, Z5, dst

#define GFNI_LOAD4 \
	MOVQ      x0+0(FP), R8   \
	MOVQ      x1+8(FP), R9   \
	MOVQ      x2+16(FP), R10 \
	MOVQ      x3+24(FP), R11 \
	MOVQ      n+32(FP), CX   \
	MOVQ      m02+40(FP), AX \
	VMOVDQU64 (AX), Z26      \
	VMOVDQU64 64(AX), Z27    \
	MOVQ      m01+48(FP), AX \
	VMOVDQU64 (AX), Z28      \
	VMOVDQU64 64(AX), Z29    \
	MOVQ      m23+56(FP), AX \
	VMOVDQU64 (AX), Z30      \
	VMOVDQU64 64(AX), Z31    \
	SHRQ      $6, CX

#define AVX2_LOAD_TABLES(reg) \
	VBROADCASTI128 0(reg), Y8    \
	VBROADCASTI128 16(reg), Y9   \
	VBROADCASTI128 32(reg), Y10  \
	VBROADCASTI128 48(reg), Y11  \
	VBROADCASTI128 64(reg), Y12  \
	VBROADCASTI128 80(reg), Y13  \
	VBROADCASTI128 96(reg), Y14  \
	VBROADCASTI128 112(reg), Y15 \
	MOVQ           $0x0f, BX     \
	MOVQ           BX, X7        \
	VPBROADCASTB   X7, Y7

// AVX2_MUL: (Y0 = lo, Y1 = hi) -> (Y4 = product lo, Y5 = product hi); clobbers Y0-Y3, Y6.
#define AVX2_MUL \
	VPSRLQ  $4, Y0, Y2  \
	VPAND   Y7, Y0, Y0  \
	VPAND   Y7, Y2, Y2  \
	VPSRLQ  $4, Y1, Y3  \
	VPAND   Y7, Y1, Y1  \
	VPAND   Y7, Y3, Y3  \
	VPSHUFB Y0, Y8, Y4  \
	VPSHUFB Y2, Y9, Y6  \
	VPXOR   Y6, Y4, Y4  \
	VPSHUFB Y1, Y10, Y6 \
	VPXOR   Y6, Y4, Y4  \
	VPSHUFB Y3, Y11, Y6 \
	VPXOR   Y6, Y4, Y4  \
	VPSHUFB Y0, Y12, Y5 \
	VPSHUFB Y2, Y13, Y6 \
	VPXOR   Y6, Y5, Y5  \
	VPSHUFB Y1, Y14, Y6 \
	VPXOR   Y6, Y5, Y5  \
	VPSHUFB Y3, Y15, Y6 \
	VPXOR   Y6, Y5, Y5

// func mulAddGFNI(x, y *byte, n int, mats *gfniMatrices)
TEXT ·mulAddGFNI(SB), NOSPLIT, $0-32
	MOVQ x+0(FP), DI
	MOVQ y+8(FP), SI
	MOVQ n+16(FP), CX
	GFNI_LOAD_MATS
	SHRQ $6, CX

mulAddGFNILoop:
	VMOVDQU64 (SI), Z0
	VSHUFI64X2     $0x4e, Z0, Z0, Z1
	VGF2P8AFFINEQB $0, Z30, Z0, Z2
	VGF2P8AFFINEQB $0, Z31, Z1, Z3
	VMOVDQU64  (DI), Z4
	VPTERNLOGQ $0x96, Z3, Z2, Z4
	VMOVDQU64  Z4, (DI)
	ADDQ $64, SI
	ADDQ $64, DI
	DECQ CX
	JNZ  mulAddGFNILoop
	VZEROUPPER
	RET

// func mulGFNI(x *byte, n int, mats *gfniMatrices)
TEXT ·mulGFNI(SB), NOSPLIT, $0-24
	MOVQ x+0(FP), DI
	MOVQ n+8(FP), CX
	MOVQ mats+16(FP), AX
	VMOVDQU64 (AX), Z30
	VMOVDQU64 64(AX), Z31
	SHRQ $6, CX

mulGFNILoop:
	VMOVDQU64 (DI), Z0
	GFNI_MUL(Z0, Z1, Z2)
	VMOVDQU64 Z2, (DI)
	ADDQ $64, DI
	DECQ CX
	JNZ  mulGFNILoop
	VZEROUPPER
	RET

// func fftGFNI(x, y *byte, n int, mats *gfniMatrices): x ^= y·m; y ^= x.
TEXT ·fftGFNI(SB), NOSPLIT, $0-32
	MOVQ x+0(FP), DI
	MOVQ y+8(FP), SI
	MOVQ n+16(FP), CX
	GFNI_LOAD_MATS
	SHRQ $6, CX

fftGFNILoop:
	VMOVDQU64 (SI), Z0
	VSHUFI64X2     $0x4e, Z0, Z0, Z1
	VGF2P8AFFINEQB $0, Z30, Z0, Z2
	VGF2P8AFFINEQB $0, Z31, Z1, Z3
	VMOVDQU64  (DI), Z4
	VPTERNLOGQ $0x96, Z3, Z2, Z4
	VMOVDQU64  Z4, (DI)
	VPXORQ     Z4, Z0, Z0
	VMOVDQU64  Z0, (SI)
	ADDQ $64, SI
	ADDQ $64, DI
	DECQ CX
	JNZ  fftGFNILoop
	VZEROUPPER
	RET

// func ifftGFNI(x, y *byte, n int, mats *gfniMatrices): y ^= x; x ^= y·m.
TEXT ·ifftGFNI(SB), NOSPLIT, $0-32
	MOVQ x+0(FP), DI
	MOVQ y+8(FP), SI
	MOVQ n+16(FP), CX
	GFNI_LOAD_MATS
	SHRQ $6, CX

ifftGFNILoop:
	VMOVDQU64 (DI), Z4
	VMOVDQU64 (SI), Z0
	VPXORQ    Z4, Z0, Z0
	VMOVDQU64 Z0, (SI)
	VSHUFI64X2     $0x4e, Z0, Z0, Z1
	VGF2P8AFFINEQB $0, Z30, Z0, Z2
	VGF2P8AFFINEQB $0, Z31, Z1, Z3
	VPTERNLOGQ $0x96, Z3, Z2, Z4
	VMOVDQU64  Z4, (DI)
	ADDQ $64, SI
	ADDQ $64, DI
	DECQ CX
	JNZ  ifftGFNILoop
	VZEROUPPER
	RET

// ---- AVX2 ----
// The product of a block is looked up per input nibble with VPSHUFB: tables Y8..Y11 give
// the low output byte for nibbles 0..3 of the element, Y12..Y15 the high byte; Y7 holds the
// 0x0f mask.

// func mulAddAVX2(x, y *byte, n int, t *nibbleTables)
TEXT ·mulAddAVX2(SB), NOSPLIT, $0-32
	MOVQ x+0(FP), DI
	MOVQ y+8(FP), SI
	MOVQ n+16(FP), CX
	MOVQ t+24(FP), AX
	AVX2_LOAD_TABLES(AX)
	SHRQ $6, CX

mulAddAVX2Loop:
	VMOVDQU (SI), Y0
	VMOVDQU 32(SI), Y1
	AVX2_MUL
	VPXOR   (DI), Y4, Y4
	VPXOR   32(DI), Y5, Y5
	VMOVDQU Y4, (DI)
	VMOVDQU Y5, 32(DI)
	ADDQ $64, SI
	ADDQ $64, DI
	DECQ CX
	JNZ  mulAddAVX2Loop
	VZEROUPPER
	RET

// func mulAVX2(x *byte, n int, t *nibbleTables)
TEXT ·mulAVX2(SB), NOSPLIT, $0-24
	MOVQ x+0(FP), DI
	MOVQ n+8(FP), CX
	MOVQ t+16(FP), AX
	AVX2_LOAD_TABLES(AX)
	SHRQ $6, CX

mulAVX2Loop:
	VMOVDQU (DI), Y0
	VMOVDQU 32(DI), Y1
	AVX2_MUL
	VMOVDQU Y4, (DI)
	VMOVDQU Y5, 32(DI)
	ADDQ $64, DI
	DECQ CX
	JNZ  mulAVX2Loop
	VZEROUPPER
	RET

// func fftAVX2(x, y *byte, n int, t *nibbleTables): x ^= y·m; y ^= x.
TEXT ·fftAVX2(SB), NOSPLIT, $0-32
	MOVQ x+0(FP), DI
	MOVQ y+8(FP), SI
	MOVQ n+16(FP), CX
	MOVQ t+24(FP), AX
	AVX2_LOAD_TABLES(AX)
	SHRQ $6, CX

fftAVX2Loop:
	VMOVDQU (SI), Y0
	VMOVDQU 32(SI), Y1
	AVX2_MUL
	VPXOR   (DI), Y4, Y4
	VPXOR   32(DI), Y5, Y5
	VMOVDQU Y4, (DI)
	VMOVDQU Y5, 32(DI)
	VPXOR   (SI), Y4, Y4
	VPXOR   32(SI), Y5, Y5
	VMOVDQU Y4, (SI)
	VMOVDQU Y5, 32(SI)
	ADDQ $64, SI
	ADDQ $64, DI
	DECQ CX
	JNZ  fftAVX2Loop
	VZEROUPPER
	RET

// func ifftAVX2(x, y *byte, n int, t *nibbleTables): y ^= x; x ^= y·m.
TEXT ·ifftAVX2(SB), NOSPLIT, $0-32
	MOVQ x+0(FP), DI
	MOVQ y+8(FP), SI
	MOVQ n+16(FP), CX
	MOVQ t+24(FP), AX
	AVX2_LOAD_TABLES(AX)
	SHRQ $6, CX

ifftAVX2Loop:
	VMOVDQU (SI), Y0
	VMOVDQU 32(SI), Y1
	VPXOR   (DI), Y0, Y0
	VPXOR   32(DI), Y1, Y1
	VMOVDQU Y0, (SI)
	VMOVDQU Y1, 32(SI)
	AVX2_MUL
	VPXOR   (DI), Y4, Y4
	VPXOR   32(DI), Y5, Y5
	VMOVDQU Y4, (DI)
	VMOVDQU Y5, 32(DI)
	ADDQ $64, SI
	ADDQ $64, DI
	DECQ CX
	JNZ  ifftAVX2Loop
	VZEROUPPER
	RET

// ---- AVX-512 + GFNI, radix 4 ----
// Two layers of butterflies on four shards x0..x3 at once. A zero twiddle is passed as all-
// zero matrices, whose product is zero, so no special case is needed.

// func fft4GFNI(x0, x1, x2, x3 *byte, n int, m02, m01, m23 *gfniMatrices)
TEXT ·fft4GFNI(SB), NOSPLIT, $0-64
	GFNI_LOAD4

fft4GFNILoop:
	VMOVDQU64 (R8), Z0
	VMOVDQU64 (R9), Z1
	VMOVDQU64 (R10), Z2
	VMOVDQU64 (R11), Z3
	GFNI_MULADD(Z0, Z2, Z26, Z27)
	VPXORQ Z0, Z2, Z2
	GFNI_MULADD(Z1, Z3, Z26, Z27)
	VPXORQ Z1, Z3, Z3
	GFNI_MULADD(Z0, Z1, Z28, Z29)
	VPXORQ Z0, Z1, Z1
	GFNI_MULADD(Z2, Z3, Z30, Z31)
	VPXORQ Z2, Z3, Z3
	VMOVDQU64 Z0, (R8)
	VMOVDQU64 Z1, (R9)
	VMOVDQU64 Z2, (R10)
	VMOVDQU64 Z3, (R11)
	ADDQ $64, R8
	ADDQ $64, R9
	ADDQ $64, R10
	ADDQ $64, R11
	DECQ CX
	JNZ  fft4GFNILoop
	VZEROUPPER
	RET

// func ifft4GFNI(x0, x1, x2, x3 *byte, n int, m02, m01, m23 *gfniMatrices)
TEXT ·ifft4GFNI(SB), NOSPLIT, $0-64
	GFNI_LOAD4

ifft4GFNILoop:
	VMOVDQU64 (R8), Z0
	VMOVDQU64 (R9), Z1
	VMOVDQU64 (R10), Z2
	VMOVDQU64 (R11), Z3
	VPXORQ Z0, Z1, Z1
	GFNI_MULADD(Z0, Z1, Z28, Z29)
	VPXORQ Z2, Z3, Z3
	GFNI_MULADD(Z2, Z3, Z30, Z31)
	VPXORQ Z0, Z2, Z2
	GFNI_MULADD(Z0, Z2, Z26, Z27)
	VPXORQ Z1, Z3, Z3
	GFNI_MULADD(Z1, Z3, Z26, Z27)
	VMOVDQU64 Z0, (R8)
	VMOVDQU64 Z1, (R9)
	VMOVDQU64 Z2, (R10)
	VMOVDQU64 Z3, (R11)
	ADDQ $64, R8
	ADDQ $64, R9
	ADDQ $64, R10
	ADDQ $64, R11
	DECQ CX
	JNZ  ifft4GFNILoop
	VZEROUPPER
	RET

// ---- AVX-512 + GFNI, whole layers ----
// A run applies one pair of layers (fft4/ifft4) or one layer (fft2/ifft2) to count
// consecutive blocks in one call. Block i starts at x + i·4n (i·2n for radix 2) and is made
// of four (two) spans of n bytes; the radix-4 runs read block i at src and write it at dst
// (the same for an in-place run). mp points at the matrix pointers of the skew table: block i
// uses mp[i·4q] (t01), mp[i·4q+q] (t02) and mp[i·4q+2q] (t23), or mp[i·stride] for radix 2.

// func fft4RunGFNI(dst, src *byte, n, count int, mp **gfniMatrices, q int)
TEXT ·fft4RunGFNI(SB), NOSPLIT, $0-48
	MOVQ dst+0(FP), R13
	MOVQ src+8(FP), DI
	MOVQ n+16(FP), DX
	MOVQ count+24(FP), BX
	MOVQ mp+32(FP), SI
	MOVQ q+40(FP), R12
	SUBQ DI, R13        // dst - src
	SHLQ $3, R12        // q pointers in bytes

fft4RunBlock:
	MOVQ      (SI), AX
	VMOVDQU64 (AX), Z28
	VMOVDQU64 64(AX), Z29
	MOVQ      (SI)(R12*1), AX
	VMOVDQU64 (AX), Z26
	VMOVDQU64 64(AX), Z27
	MOVQ      (SI)(R12*2), AX
	VMOVDQU64 (AX), Z30
	VMOVDQU64 64(AX), Z31
	MOVQ DI, R8
	LEAQ (DI)(DX*1), R9
	LEAQ (R9)(DX*1), R10
	LEAQ (R10)(DX*1), R11
	MOVQ DX, CX
	SHRQ $6, CX

fft4RunLoop:
	VMOVDQU64 (R8), Z0
	VMOVDQU64 (R9), Z1
	VMOVDQU64 (R10), Z2
	VMOVDQU64 (R11), Z3
	GFNI_MULADD(Z0, Z2, Z26, Z27)
	VPXORQ Z0, Z2, Z2
	GFNI_MULADD(Z1, Z3, Z26, Z27)
	VPXORQ Z1, Z3, Z3
	GFNI_MULADD(Z0, Z1, Z28, Z29)
	VPXORQ Z0, Z1, Z1
	GFNI_MULADD(Z2, Z3, Z30, Z31)
	VPXORQ Z2, Z3, Z3
	VMOVDQU64 Z0, (R8)(R13*1)
	VMOVDQU64 Z1, (R9)(R13*1)
	VMOVDQU64 Z2, (R10)(R13*1)
	VMOVDQU64 Z3, (R11)(R13*1)
	ADDQ $64, R8
	ADDQ $64, R9
	ADDQ $64, R10
	ADDQ $64, R11
	DECQ CX
	JNZ  fft4RunLoop
	MOVQ R11, DI
	LEAQ (SI)(R12*4), SI
	DECQ BX
	JNZ  fft4RunBlock
	VZEROUPPER
	RET

// func ifft4RunGFNI(dst, src *byte, n, count int, mp **gfniMatrices, q int)
TEXT ·ifft4RunGFNI(SB), NOSPLIT, $0-48
	MOVQ dst+0(FP), R13
	MOVQ src+8(FP), DI
	MOVQ n+16(FP), DX
	MOVQ count+24(FP), BX
	MOVQ mp+32(FP), SI
	MOVQ q+40(FP), R12
	SUBQ DI, R13        // dst - src
	SHLQ $3, R12

ifft4RunBlock:
	MOVQ      (SI), AX
	VMOVDQU64 (AX), Z28
	VMOVDQU64 64(AX), Z29
	MOVQ      (SI)(R12*1), AX
	VMOVDQU64 (AX), Z26
	VMOVDQU64 64(AX), Z27
	MOVQ      (SI)(R12*2), AX
	VMOVDQU64 (AX), Z30
	VMOVDQU64 64(AX), Z31
	MOVQ DI, R8
	LEAQ (DI)(DX*1), R9
	LEAQ (R9)(DX*1), R10
	LEAQ (R10)(DX*1), R11
	MOVQ DX, CX
	SHRQ $6, CX

ifft4RunLoop:
	VMOVDQU64 (R8), Z0
	VMOVDQU64 (R9), Z1
	VMOVDQU64 (R10), Z2
	VMOVDQU64 (R11), Z3
	VPXORQ Z0, Z1, Z1
	GFNI_MULADD(Z0, Z1, Z28, Z29)
	VPXORQ Z2, Z3, Z3
	GFNI_MULADD(Z2, Z3, Z30, Z31)
	VPXORQ Z0, Z2, Z2
	GFNI_MULADD(Z0, Z2, Z26, Z27)
	VPXORQ Z1, Z3, Z3
	GFNI_MULADD(Z1, Z3, Z26, Z27)
	VMOVDQU64 Z0, (R8)(R13*1)
	VMOVDQU64 Z1, (R9)(R13*1)
	VMOVDQU64 Z2, (R10)(R13*1)
	VMOVDQU64 Z3, (R11)(R13*1)
	ADDQ $64, R8
	ADDQ $64, R9
	ADDQ $64, R10
	ADDQ $64, R11
	DECQ CX
	JNZ  ifft4RunLoop
	MOVQ R11, DI
	LEAQ (SI)(R12*4), SI
	DECQ BX
	JNZ  ifft4RunBlock
	VZEROUPPER
	RET

// func fft2RunGFNI(dst, src *byte, n, count int, mp **gfniMatrices, stride int): per pair
// (x, y): x ^= y·m; y ^= x, read from src and written to dst.
TEXT ·fft2RunGFNI(SB), NOSPLIT, $0-48
	MOVQ dst+0(FP), R13
	MOVQ src+8(FP), DI
	MOVQ n+16(FP), DX
	MOVQ count+24(FP), BX
	MOVQ mp+32(FP), SI
	MOVQ stride+40(FP), R12
	SUBQ DI, R13        // dst - src
	SHLQ $3, R12

fft2RunBlock:
	MOVQ      (SI), AX
	VMOVDQU64 (AX), Z30
	VMOVDQU64 64(AX), Z31
	MOVQ DI, R8
	LEAQ (DI)(DX*1), R9
	MOVQ DX, CX
	SHRQ $6, CX

fft2RunLoop:
	VMOVDQU64 (R9), Z0
	VMOVDQU64 (R8), Z4
	VSHUFI64X2     $0x4e, Z0, Z0, Z1
	VGF2P8AFFINEQB $0, Z30, Z0, Z2
	VGF2P8AFFINEQB $0, Z31, Z1, Z3
	VPTERNLOGQ $0x96, Z3, Z2, Z4
	VPXORQ     Z4, Z0, Z0
	VMOVDQU64  Z4, (R8)(R13*1)
	VMOVDQU64  Z0, (R9)(R13*1)
	ADDQ $64, R8
	ADDQ $64, R9
	DECQ CX
	JNZ  fft2RunLoop
	MOVQ R9, DI
	ADDQ R12, SI
	DECQ BX
	JNZ  fft2RunBlock
	VZEROUPPER
	RET

// func ifft2RunGFNI(x *byte, n, count int, mp **gfniMatrices, stride int): per pair
// (x, y): y ^= x; x ^= y·m.
TEXT ·ifft2RunGFNI(SB), NOSPLIT, $0-40
	MOVQ x+0(FP), DI
	MOVQ n+8(FP), DX
	MOVQ count+16(FP), BX
	MOVQ mp+24(FP), SI
	MOVQ stride+32(FP), R12
	SHLQ $3, R12

ifft2RunBlock:
	MOVQ      (SI), AX
	VMOVDQU64 (AX), Z30
	VMOVDQU64 64(AX), Z31
	MOVQ DI, R8
	LEAQ (DI)(DX*1), R9
	MOVQ DX, CX
	SHRQ $6, CX

ifft2RunLoop:
	VMOVDQU64 (R8), Z4
	VMOVDQU64 (R9), Z0
	VPXORQ    Z4, Z0, Z0
	VMOVDQU64 Z0, (R9)
	VSHUFI64X2     $0x4e, Z0, Z0, Z1
	VGF2P8AFFINEQB $0, Z30, Z0, Z2
	VGF2P8AFFINEQB $0, Z31, Z1, Z3
	VPTERNLOGQ $0x96, Z3, Z2, Z4
	VMOVDQU64  Z4, (R8)
	ADDQ $64, R8
	ADDQ $64, R9
	DECQ CX
	JNZ  ifft2RunLoop
	MOVQ R9, DI
	ADDQ R12, SI
	DECQ BX
	JNZ  ifft2RunBlock
	VZEROUPPER
	RET

// Gather and scatter forms of the q = 1 layers, for the first IFFT and the last FFT layers:
// the shards of block i are read from (gather) or written to (scatter) the pointers
// p[4i..4i+3] (p[2i..2i+1] for radix 2) instead of the work buffer. Twiddles as for q = 1.
// The n bytes behind a pointer are runs of run 64-byte blocks with gap bytes between
// consecutive runs (run = n/64 and gap = 0 for one contiguous span); run must divide n/64.

// func ifft4GatherGFNI(dst *byte, n, count int, src **byte, mp **gfniMatrices, run, gap int, sum bool)
// With sum set every block goes to the first block of dst: the first is stored, the others
// are XORed into it.
TEXT ·ifft4GatherGFNI(SB), NOSPLIT, $0-57
	MOVQ dst+0(FP), DI
	MOVQ n+8(FP), DX
	MOVQ count+16(FP), BX
	MOVQ src+24(FP), R12
	MOVQ mp+32(FP), SI
	LEAQ (DX)(DX*2), R13

ifft4GatherBlock:
	MOVQ      (SI), AX
	VMOVDQU64 (AX), Z28
	VMOVDQU64 64(AX), Z29
	MOVQ      8(SI), AX
	VMOVDQU64 (AX), Z26
	VMOVDQU64 64(AX), Z27
	MOVQ      16(SI), AX
	VMOVDQU64 (AX), Z30
	VMOVDQU64 64(AX), Z31
	MOVQ (R12), R8
	MOVQ 8(R12), R9
	MOVQ 16(R12), R10
	MOVQ 24(R12), R11
	MOVQ run+40(FP), CX
	LEAQ (DI)(DX*1), AX

ifft4GatherLoop:
	VMOVDQU64 (R8), Z0
	VMOVDQU64 (R9), Z1
	VMOVDQU64 (R10), Z2
	VMOVDQU64 (R11), Z3
	VPXORQ Z0, Z1, Z1
	GFNI_MULADD(Z0, Z1, Z28, Z29)
	VPXORQ Z2, Z3, Z3
	GFNI_MULADD(Z2, Z3, Z30, Z31)
	VPXORQ Z0, Z2, Z2
	GFNI_MULADD(Z0, Z2, Z26, Z27)
	VPXORQ Z1, Z3, Z3
	GFNI_MULADD(Z1, Z3, Z26, Z27)
	CMPB sum+56(FP), $0
	JEQ  ifft4GatherStore
	CMPQ BX, count+16(FP)
	JEQ  ifft4GatherStore
	VPXORQ (DI), Z0, Z0
	VPXORQ (DI)(DX*1), Z1, Z1
	VPXORQ (DI)(DX*2), Z2, Z2
	VPXORQ (DI)(R13*1), Z3, Z3

ifft4GatherStore:
	VMOVDQU64 Z0, (DI)
	VMOVDQU64 Z1, (DI)(DX*1)
	VMOVDQU64 Z2, (DI)(DX*2)
	VMOVDQU64 Z3, (DI)(R13*1)
	ADDQ $64, R8
	ADDQ $64, R9
	ADDQ $64, R10
	ADDQ $64, R11
	ADDQ $64, DI
	DECQ CX
	JNZ  ifft4GatherLoop
	CMPQ DI, AX
	JEQ  ifft4GatherRunsDone
	ADDQ gap+48(FP), R8
	ADDQ gap+48(FP), R9
	ADDQ gap+48(FP), R10
	ADDQ gap+48(FP), R11
	MOVQ run+40(FP), CX
	JMP  ifft4GatherLoop

ifft4GatherRunsDone:
	ADDQ R13, DI
	CMPB sum+56(FP), $0
	JEQ  ifft4GatherNext
	MOVQ dst+0(FP), DI

ifft4GatherNext:
	ADDQ $32, R12
	ADDQ $32, SI
	DECQ BX
	JNZ  ifft4GatherBlock
	VZEROUPPER
	RET

// func fft4ScatterGFNI(src *byte, n, count int, dst **byte, mp **gfniMatrices, run, gap int, reuse bool)
// With reuse set every block reads the first block of src: one set of coefficients is
// evaluated at count consecutive blocks of points.
TEXT ·fft4ScatterGFNI(SB), NOSPLIT, $0-57
	MOVQ src+0(FP), DI
	MOVQ n+8(FP), DX
	MOVQ count+16(FP), BX
	MOVQ dst+24(FP), R12
	MOVQ mp+32(FP), SI
	LEAQ (DX)(DX*2), R13

fft4ScatterBlock:
	MOVQ      (SI), AX
	VMOVDQU64 (AX), Z28
	VMOVDQU64 64(AX), Z29
	MOVQ      8(SI), AX
	VMOVDQU64 (AX), Z26
	VMOVDQU64 64(AX), Z27
	MOVQ      16(SI), AX
	VMOVDQU64 (AX), Z30
	VMOVDQU64 64(AX), Z31
	MOVQ (R12), R8
	MOVQ 8(R12), R9
	MOVQ 16(R12), R10
	MOVQ 24(R12), R11
	MOVQ run+40(FP), CX
	LEAQ (DI)(DX*1), AX

fft4ScatterLoop:
	VMOVDQU64 (DI), Z0
	VMOVDQU64 (DI)(DX*1), Z1
	VMOVDQU64 (DI)(DX*2), Z2
	VMOVDQU64 (DI)(R13*1), Z3
	GFNI_MULADD(Z0, Z2, Z26, Z27)
	VPXORQ Z0, Z2, Z2
	GFNI_MULADD(Z1, Z3, Z26, Z27)
	VPXORQ Z1, Z3, Z3
	GFNI_MULADD(Z0, Z1, Z28, Z29)
	VPXORQ Z0, Z1, Z1
	GFNI_MULADD(Z2, Z3, Z30, Z31)
	VPXORQ Z2, Z3, Z3
	VMOVDQU64 Z0, (R8)
	VMOVDQU64 Z1, (R9)
	VMOVDQU64 Z2, (R10)
	VMOVDQU64 Z3, (R11)
	ADDQ $64, R8
	ADDQ $64, R9
	ADDQ $64, R10
	ADDQ $64, R11
	ADDQ $64, DI
	DECQ CX
	JNZ  fft4ScatterLoop
	CMPQ DI, AX
	JEQ  fft4ScatterRunsDone
	ADDQ gap+48(FP), R8
	ADDQ gap+48(FP), R9
	ADDQ gap+48(FP), R10
	ADDQ gap+48(FP), R11
	MOVQ run+40(FP), CX
	JMP  fft4ScatterLoop

fft4ScatterRunsDone:
	ADDQ R13, DI
	CMPB reuse+56(FP), $0
	JEQ  fft4ScatterNext
	MOVQ src+0(FP), DI

fft4ScatterNext:
	ADDQ $32, R12
	ADDQ $32, SI
	DECQ BX
	JNZ  fft4ScatterBlock
	VZEROUPPER
	RET

// func fft2ScatterGFNI(src *byte, n, count int, dst **byte, mp **gfniMatrices, run, gap int)
TEXT ·fft2ScatterGFNI(SB), NOSPLIT, $0-56
	MOVQ src+0(FP), DI
	MOVQ n+8(FP), DX
	MOVQ count+16(FP), BX
	MOVQ dst+24(FP), R12
	MOVQ mp+32(FP), SI

fft2ScatterBlock:
	MOVQ      (SI), AX
	VMOVDQU64 (AX), Z30
	VMOVDQU64 64(AX), Z31
	MOVQ (R12), R8
	MOVQ 8(R12), R9
	MOVQ run+40(FP), CX
	LEAQ (DI)(DX*1), AX

fft2ScatterLoop:
	VMOVDQU64 (DI)(DX*1), Z0
	VMOVDQU64 (DI), Z4
	VSHUFI64X2     $0x4e, Z0, Z0, Z1
	VGF2P8AFFINEQB $0, Z30, Z0, Z2
	VGF2P8AFFINEQB $0, Z31, Z1, Z3
	VPTERNLOGQ $0x96, Z3, Z2, Z4
	VPXORQ     Z4, Z0, Z0
	VMOVDQU64  Z4, (R8)
	VMOVDQU64  Z0, (R9)
	ADDQ $64, R8
	ADDQ $64, R9
	ADDQ $64, DI
	DECQ CX
	JNZ  fft2ScatterLoop
	CMPQ DI, AX
	JEQ  fft2ScatterRunsDone
	ADDQ gap+48(FP), R8
	ADDQ gap+48(FP), R9
	MOVQ run+40(FP), CX
	JMP  fft2ScatterLoop

fft2ScatterRunsDone:
	ADDQ DX, DI
	ADDQ $16, R12
	ADDQ $16, SI
	DECQ BX
	JNZ  fft2ScatterBlock
	VZEROUPPER
	RET
