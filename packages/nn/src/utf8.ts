/**
 * A small UTF-8 codec: QuickJS has no TextEncoder/TextDecoder, and safetensors headers and ONNX
 * strings must be written (and read) there too.
 */
/** Encodes a string as UTF-8. Lone surrogates become U+FFFD, as TextEncoder does. */
export function utf8Encode(text: string): Uint8Array {
  const out: number[] = [];
  for (const char of text) {
    let code = char.codePointAt(0)!;
    if (code >= 0xd800 && code <= 0xdfff) code = 0xfffd;
    if (code < 0x80) {
      out.push(code);
    } else if (code < 0x800) {
      out.push(0xc0 | (code >> 6), 0x80 | (code & 0x3f));
    } else if (code < 0x10000) {
      out.push(0xe0 | (code >> 12), 0x80 | ((code >> 6) & 0x3f), 0x80 | (code & 0x3f));
    } else {
      out.push(0xf0 | (code >> 18), 0x80 | ((code >> 12) & 0x3f), 0x80 | ((code >> 6) & 0x3f), 0x80 | (code & 0x3f));
    }
  }
  return Uint8Array.from(out);
}

/**
 * Decodes bytes [start, end) as strict UTF-8, or returns the offset of the first byte that is
 * not valid UTF-8 (a bad lead or continuation byte, a truncated sequence, an overlong form,
 * a surrogate, or a code point above U+10FFFF).
 */
export function utf8Decode(bytes: Uint8Array, start: number, end: number): string | number {
  let text = "";
  const units: number[] = [];
  for (let i = start; i < end; ) {
    const lead = bytes[i]!;
    let code: number;
    let length: number;
    let smallest: number; // smallest code point that needs this many bytes
    if (lead < 0x80) [code, length, smallest] = [lead, 1, 0];
    else if ((lead & 0xe0) === 0xc0) [code, length, smallest] = [lead & 0x1f, 2, 0x80];
    else if ((lead & 0xf0) === 0xe0) [code, length, smallest] = [lead & 0x0f, 3, 0x800];
    else if ((lead & 0xf8) === 0xf0) [code, length, smallest] = [lead & 0x07, 4, 0x10000];
    else return i;
    if (i + length > end) return i;
    for (let k = 1; k < length; k++) {
      const next = bytes[i + k]!;
      if ((next & 0xc0) !== 0x80) return i + k;
      code = (code << 6) | (next & 0x3f);
    }
    if (code < smallest || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) return i;
    if (code < 0x10000) {
      units.push(code);
    } else {
      code -= 0x10000; // a surrogate pair
      units.push(0xd800 + (code >> 10), 0xdc00 + (code & 0x3ff));
    }
    if (units.length >= 4096) {
      text += String.fromCharCode(...units);
      units.length = 0;
    }
    i += length;
  }
  return text + String.fromCharCode(...units);
}
