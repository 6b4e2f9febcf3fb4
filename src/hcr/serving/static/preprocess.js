// A port of hcr.inference.preprocess.to_letter_array (PREPROCESS_VERSION 7) for what the page's canvas holds, so
// the page can run the model itself and see exactly the 28 × 28 image the server would make of the same PNG.
//
// Ported: the ink map of an opaque image on paper of one level all round its border (a canvas: the
// uniform-paper case), the letter's box with its rule for specks and slivers (_main_glyph,
// _main_span), the crop, the pen correction (_with_usual_strokes: stroke width, grey dilation or erosion at
// STROKE_SIDE) and Pillow's resampling as Pillow 13 does it (Resample.c's fixed-point two-pass filter and its
// order of passes, Reduce.c's block means, Image.resize's reducing_gap), then the centring. Python's round()
// (halves to even) and numpy's float32 steps are reproduced where they decide a pixel.
// Not ported, and never guessed at: the paper estimation of photos and scans (a border that is not one level:
// the drawing touches the pad's edge), a transparent canvas's alpha, printed frames and ruled lines, and
// reduction of images over WORK_SIDE.
// For those the port says why it cannot answer (`fallback`) and the page asks the server instead; the conditions
// are exact (preprocess.py provably finds no frame or line without them), so whatever the port answers is what
// the server would. The constants come from the server (/v1/model/browser), read from preprocess.py itself.
"use strict";

const HcrPreprocess = (() => {
  const PORTED_VERSION = 14; // 8 to 12 changed only images the port leaves to the server (a non-uniform border;
  // a ring of one level inside the border, which 9 no longer takes for a frame when it encloses mostly paper; 10
  // keeps faint ink that runs on from clear ink on paper estimated locally, 11 blurs a small noisy crop's ink, 12
  // lets such faint ink into the letter's box); 13 takes the ink on uniform paper to be on the side with more of it;
  // 14 reduces bilevel images by their grey (a canvas is never bilevel), and makes a pen thinner than the usual
  // range as wide as their median (not their 5th percentile), at full strength
  const PRECISION_BITS = 22; // Resample.c: 32 - 8 - 2
  const FILTERS = {
    bilinear: { support: 1.0, weight: (x) => (Math.abs(x) < 1.0 ? 1.0 - Math.abs(x) : 0.0) },
    lanczos: { support: 3.0, weight: (x) => (-3.0 <= x && x < 3.0 ? sinc(x) * sinc(x / 3) : 0.0) },
  };

  function sinc(x) {
    if (x === 0.0) return 1.0;
    const y = x * Math.PI;
    return Math.sin(y) / y;
  }

  /** Python's round(): halves go to the even neighbour. */
  function roundHalfEven(x) {
    const r = Math.round(x);
    return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
  }

  /** preprocess._fit: [width, height] scaled so the long side is `side`. */
  function fit(w, h, side) {
    const scale = side / Math.max(w, h);
    return [Math.max(1, roundHalfEven(w * scale)), Math.max(1, roundHalfEven(h * scale))];
  }

  /** preprocess._border of values[depth : h - depth, depth : w - depth]: the first row, the last row, the first
   * column, the last column of the image `depth` px in from its edge (0: the border itself). */
  function ringAt(values, w, h, depth) {
    const ring = [];
    const [x0, x1, y0, y1] = [depth, w - depth - 1, depth, h - depth - 1];
    for (let x = x0; x <= x1; x++) ring.push(values[y0 * w + x]);
    for (let x = x0; x <= x1; x++) ring.push(values[y1 * w + x]);
    for (let y = y0; y <= y1; y++) ring.push(values[y * w + x0]);
    for (let y = y0; y <= y1; y++) ring.push(values[y * w + x1]);
    return ring;
  }

  /** preprocess.ink_map for an opaque canvas on paper of one level: Float32Array ink, or a string saying why only
   * the server can tell. */
  function inkMap(rgba, w, h, c) {
    if (Math.max(w, h) > c.work_side) return `the image is over ${c.work_side} px a side`;
    const n = w * h;
    const alpha = new Uint8Array(n);
    for (let i = 0; i < n; i++) alpha[i] = rgba[4 * i + 3];
    const alphaBorder = ringAt(alpha, w, h, 0);
    if (alphaBorder.reduce((a, b) => a + b, 0) / alphaBorder.length < 128) return "the canvas is transparent";
    const grey = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      // Pillow's RGB(A) → L: ITU-R 601-2 luma in 16-bit fixed point, rounded
      grey[i] = (rgba[4 * i] * 19595 + rgba[4 * i + 1] * 38470 + rgba[4 * i + 2] * 7471 + 0x8000) >> 16;
    }
    const greyBorder = ringAt(grey, w, h, 0);
    const paper = greyBorder[0];
    if (greyBorder.some((v) => v !== paper)) return "the drawing touches the pad's edge";
    // preprocess._plain_paper: rings of the border's level round a ring mostly of one other level are a frame
    // along the edge: only the server reads such an image
    for (let depth = 1; depth <= Math.floor(c.frame_depth * Math.min(w, h)); depth++) {
      const ring = ringAt(grey, w, h, depth);
      if (ring.every((v) => v === paper)) continue;
      const levels = new Array(256).fill(0);
      for (const v of ring) if (v !== paper) levels[v] += 1;
      const inside = levels.indexOf(Math.max(...levels));
      if (levels[inside] >= c.frame_inside * ring.length) return "the pad's edge may be a frame";
      break;
    }
    // preprocess._ink_on_uniform_paper: the ink is on the side of the paper's level with more of it
    let darker = 0;
    let lighter = 0;
    for (let i = 0; i < n; i++) {
      if (grey[i] < paper) darker += paper - grey[i];
      else lighter += grey[i] - paper;
    }
    const ink = new Float32Array(n);
    for (let i = 0; i < n; i++) ink[i] = darker >= lighter ? paper - Math.min(grey[i], paper) : Math.max(grey[i], paper) - paper;
    return ink;
  }

  /** preprocess._main_span: [start, stop) of the heaviest run of a profile, grown by heavy or near runs. */
  function mainSpan(profile, size, c) {
    const starts = [];
    const stops = [];
    const masses = [];
    for (let i = 0; i < profile.length; i++) {
      if (profile[i] === 0) continue;
      if (stops.length && stops[stops.length - 1] === i) {
        stops[stops.length - 1] = i + 1;
        masses[masses.length - 1] += profile[i];
      } else {
        starts.push(i);
        stops.push(i + 1);
        masses.push(profile[i]);
      }
    }
    if (starts.length === 1) return [starts[0], stops[0]];
    let low = masses.indexOf(Math.max(...masses)); // the first of the heaviest, as np.argmax
    let high = low;
    const scale = Math.max(size, stops[low] - starts[low]);
    const reach = c.near_gap * scale;
    let kept = masses[low];
    const joins = (run, gap) => {
      const near = gap <= reach && stops[run] - starts[run] > c.sliver * scale;
      return near || masses[run] >= c.far_mass * kept;
    };
    while (low > 0 && joins(low - 1, starts[low] - stops[low - 1])) kept += masses[--low];
    while (high < starts.length - 1 && joins(high + 1, starts[high + 1] - stops[high])) kept += masses[++high];
    return [starts[low], stops[high]];
  }

  function allWithin(profile, [start, stop]) {
    for (let i = 0; i < profile.length; i++) if ((i < start || i >= stop) && profile[i]) return false;
    return true;
  }

  /** preprocess._main_glyph: [[row start, stop], [column start, stop]] of the letter in a mask. */
  function mainGlyph(mask, w, h, c) {
    let rows = [0, h];
    let cols = [0, w];
    let size = 0;
    for (let pass = 0; pass < c.glyph_passes; pass++) {
      const before = [rows, cols];
      const rowProfile = new Int32Array(h);
      for (let y = 0; y < h; y++) for (let x = cols[0]; x < cols[1]; x++) rowProfile[y] += mask[y * w + x];
      rows = mainSpan(rowProfile, size, c);
      size = Math.max(size, rows[1] - rows[0]);
      const colProfile = new Int32Array(w);
      for (let y = rows[0]; y < rows[1]; y++) for (let x = 0; x < w; x++) colProfile[x] += mask[y * w + x];
      cols = mainSpan(colProfile, size, c);
      size = Math.max(rows[1] - rows[0], cols[1] - cols[0]);
      const same = rows.join() === before[0].join() && cols.join() === before[1].join();
      if (same || (allWithin(rowProfile, rows) && allWithin(colProfile, cols))) break;
    }
    return [rows, cols];
  }

  /** Reduce.c: block means, each block's sum amended and divided in Pillow's 8-bit fixed point. */
  function reduce(img, xscale, yscale) {
    const w = Math.ceil(img.w / xscale);
    const h = Math.ceil(img.h / yscale);
    const out = new Uint8Array(w * h);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        let sum = 0;
        let count = 0;
        for (let yy = y * yscale; yy < Math.min(img.h, (y + 1) * yscale); yy++) {
          for (let xx = x * xscale; xx < Math.min(img.w, (x + 1) * xscale); xx++) {
            sum += img.data[yy * img.w + xx];
            count++;
          }
        }
        const multiplier = Math.trunc(Math.fround(2 ** 32 / (256 * count))); // division_UINT32(count, 8)
        out[y * w + x] = Math.floor(((sum + Math.floor(count / 2)) * multiplier) % 2 ** 32 / 2 ** 24);
      }
    }
    return { data: out, w, h };
  }

  /** Resample.c's precompute_coeffs then normalize_coeffs_8bpc: per output pixel, its first input pixel and its
   * fixed-point weights. `in0`, `in1` are C floats there. */
  function coefficients(inSize, in0, in1, outSize, filter) {
    const scale = Math.fround(Math.fround(in1) - Math.fround(in0)) / outSize;
    const filterscale = Math.max(scale, 1.0);
    const support = filter.support * filterscale;
    const result = [];
    for (let xx = 0; xx < outSize; xx++) {
      const center = Math.fround(in0) + (xx + 0.5) * scale;
      const ss = 1.0 / filterscale;
      const xmin = Math.max(0, Math.trunc(center - support + 0.5));
      const xmax = Math.min(inSize, Math.trunc(center + support + 0.5)) - xmin;
      const k = [];
      let ww = 0.0;
      for (let x = 0; x < xmax; x++) {
        const weight = filter.weight((x + xmin - center + 0.5) * ss);
        k.push(weight);
        ww += weight;
      }
      const fixed = k.map((v) => {
        const normal = ww !== 0.0 ? v / ww : v;
        return Math.trunc(normal < 0 ? -0.5 + normal * (1 << PRECISION_BITS) : 0.5 + normal * (1 << PRECISION_BITS));
      });
      result.push({ xmin, k: fixed });
    }
    return result;
  }

  function clip8(sum) {
    return Math.min(255, Math.max(0, sum >> PRECISION_BITS));
  }

  function horizontalPass(img, outW, coeffs) {
    const data = new Uint8Array(outW * img.h);
    for (let y = 0; y < img.h; y++) {
      for (let xx = 0; xx < outW; xx++) {
        const { xmin, k } = coeffs[xx];
        let sum = 1 << (PRECISION_BITS - 1);
        for (let x = 0; x < k.length; x++) sum += img.data[y * img.w + xmin + x] * k[x];
        data[y * outW + xx] = clip8(sum);
      }
    }
    return { data, w: outW, h: img.h };
  }

  function verticalPass(img, outH, coeffs) {
    const data = new Uint8Array(img.w * outH);
    for (let yy = 0; yy < outH; yy++) {
      const { xmin: ymin, k } = coeffs[yy];
      for (let x = 0; x < img.w; x++) {
        let sum = 1 << (PRECISION_BITS - 1);
        for (let y = 0; y < k.length; y++) sum += img.data[(ymin + y) * img.w + x] * k[y];
        data[yy * img.w + x] = clip8(sum);
      }
    }
    return { data, w: img.w, h: outH };
  }

  /** Resample.c's ImagingResampleInner for an 8-bit grey image: two one-dimensional passes, each rounded to 8
   * bits, the vertical one first where the height shrinks by more than twice as many pixels as the width (Pillow
   * 13, python-pillow/Pillow#9549; found by comparing both orders with Pillow's result: 1,384 of 1,384 sizes). */
  function resample(img, outW, outH, filter, box) {
    const horizontal = outW !== img.w || box[0] || box[2] !== outW;
    const vertical = outH !== img.h || box[1] || box[3] !== outH;
    const across = (i) => (horizontal ? horizontalPass(i, outW, coefficients(img.w, box[0], box[2], outW, filter)) : i);
    const down = (i) => (vertical ? verticalPass(i, outH, coefficients(img.h, box[1], box[3], outH, filter)) : i);
    const verticalFirst = outH < img.h && img.h - outH > 2 * (img.w - outW);
    const out = verticalFirst ? across(down(img)) : down(across(img));
    return out === img ? { data: img.data.slice(), w: img.w, h: img.h } : out;
  }

  /** PIL.Image.resize(size, filter, reducing_gap=gap) of an 8-bit grey image. */
  function resize(img, outW, outH, filter, gap) {
    if (img.w === outW && img.h === outH) return { data: img.data.slice(), w: img.w, h: img.h };
    const xscale = Math.trunc(img.w / outW / gap) || 1;
    const yscale = Math.trunc(img.h / outH / gap) || 1;
    if (xscale > 1 || yscale > 1) {
      const reduced = reduce(img, xscale, yscale);
      return resample(reduced, outW, outH, filter, [0, 0, img.w / xscale, img.h / yscale]);
    }
    return resample(img, outW, outH, filter, [0, 0, img.w, img.h]);
  }

  /** preprocess._stroke_width: 2 × ink area / ink boundary, in pixels at STROKE_SIDE. */
  function strokeWidth(img, c) {
    const ink = (x, y) => x >= 0 && y >= 0 && x < img.w && y < img.h && img.data[y * img.w + x] > 127;
    let area = 0;
    let inner = 0;
    for (let y = 0; y < img.h; y++) {
      for (let x = 0; x < img.w; x++) {
        if (!ink(x, y)) continue;
        area++;
        if (ink(x - 1, y) && ink(x + 1, y) && ink(x, y - 1) && ink(x, y + 1)) inner++;
      }
    }
    const width = (2 * area) / Math.max(1, area - inner);
    return (width * c.stroke_side) / Math.max(img.w, img.h);
  }

  /** preprocess._square_filter by a (2r + 1)² square of the image padded with paper by 2r (np.maximum: a
   * thicker pen, np.minimum: a thinner one), rows then columns, then cropped to its ink; null if none is left. */
  function repen(img, r, thicker) {
    const pick = thicker ? Math.max : Math.min;
    const padded = (x, y) => {
      const [u, v] = [x - 2 * r, y - 2 * r];
      return u >= 0 && v >= 0 && u < img.w && v < img.h ? img.data[v * img.w + u] : 0;
    };
    const wide = img.w + 4 * r; // the rows' pass keeps the padded width
    const w = img.w + 2 * r;
    const h = img.h + 2 * r;
    const rows = new Uint8Array(wide * h);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < wide; x++) {
        let v = padded(x, y);
        for (let d = 1; d <= 2 * r; d++) v = pick(v, padded(x, y + d));
        rows[y * wide + x] = v;
      }
    }
    const out = new Uint8Array(w * h);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        let v = rows[y * wide + x];
        for (let d = 1; d <= 2 * r; d++) v = pick(v, rows[y * wide + x + d]);
        out[y * w + x] = v;
      }
    }
    return cropToInk({ data: out, w, h });
  }

  function cropToInk(img) {
    let top = img.h;
    let bottom = -1;
    let left = img.w;
    let right = -1;
    for (let y = 0; y < img.h; y++) {
      for (let x = 0; x < img.w; x++) {
        if (!img.data[y * img.w + x]) continue;
        top = Math.min(top, y);
        bottom = Math.max(bottom, y);
        left = Math.min(left, x);
        right = Math.max(right, x);
      }
    }
    if (bottom < 0) return null;
    return crop(img, [top, bottom + 1], [left, right + 1]);
  }

  function crop(img, [top, bottom], [left, right]) {
    const w = right - left;
    const data = new img.data.constructor(w * (bottom - top));
    for (let y = top; y < bottom; y++) data.set(img.data.subarray(y * img.w + left, y * img.w + right), (y - top) * w);
    return { data, w, h: bottom - top };
  }

  /** preprocess._with_usual_strokes: the pen made thicker or thinner if outside the datasets' usual range. */
  function withUsualStrokes(img, c) {
    const atStrokeSide = (i) => resize(i, ...fit(i.w, i.h, c.stroke_side), FILTERS.bilinear, 2.0);
    let scaled = Math.max(img.w, img.h) >= c.stroke_side ? null : atStrokeSide(img);
    const width = strokeWidth(scaled ?? img, c);
    const [low, high] = c.stroke_range;
    if (low <= width && width <= high) return img;
    const target = width < low ? c.thin_pen_width : high;
    const radius = Math.min(c.max_pen_radius, roundHalfEven(Math.abs(width - target) / 2));
    if (radius === 0) return img;
    scaled = scaled ?? atStrokeSide(img);
    const repenned = repen(scaled, radius, width < low);
    if (repenned === null) return scaled; // eroded away: kept as drawn
    if (width < low) {
      // a line finer than a pixel at STROKE_SIDE came out faint there: its broader pen is not
      let peak = 0;
      for (const v of repenned.data) peak = Math.max(peak, v);
      repenned.data = repenned.data.map((v) => Math.floor((v * 255) / peak));
    }
    return repenned;
  }

  /**
   * The 28 × 28 letter the server would make of this canvas: {letter: Uint8Array(side²)}, {blank: true}, or
   * {fallback: why} where only the server can tell. `c`: the constants of /v1/model/browser's `preprocess`.
   */
  function letterArray(rgba, w, h, c) {
    if (c.version !== PORTED_VERSION) return { fallback: `the server preprocesses with version ${c.version}` };
    const ink = inkMap(rgba, w, h, c);
    if (typeof ink === "string") return { fallback: ink };
    let peak = 0;
    for (const v of ink) peak = Math.max(peak, v);
    if (peak < c.min_contrast) return { blank: true };
    const cut = Math.fround(c.ink_threshold * peak); // numpy compares float32 ink with a float32 threshold
    const mask = new Uint8Array(w * h);
    const rowCounts = new Int32Array(h);
    for (let i = 0; i < w * h; i++) {
      mask[i] = ink[i] > cut ? 1 : 0;
      rowCounts[Math.floor(i / w)] += mask[i];
    }
    if (Math.max(...rowCounts) >= c.line_span * w) return { fallback: "a stroke runs across the pad, as a ruled line" };
    const [rows, cols] = mainGlyph(mask, w, h, c);
    let firstRow = 0;
    for (let x = cols[0]; x < cols[1]; x++) firstRow += mask[rows[0] * w + x];
    if (firstRow >= c.frame_cover * (cols[1] - cols[0])) return { fallback: "the letter's top row is full, as a box" };

    const cropped = crop({ data: ink, w, h }, rows, cols);
    let cropPeak = 0;
    for (const v of cropped.data) cropPeak = Math.max(cropPeak, v);
    const gain = Math.fround(255 / cropPeak); // float32 arithmetic, as numpy's crop *= 255.0 / crop.max()
    const letter = { data: Uint8Array.from(cropped.data, (v) => Math.fround(v * gain)), w: cropped.w, h: cropped.h };
    const repenned = withUsualStrokes(letter, c);
    const [newW, newH] = fit(repenned.w, repenned.h, c.ink_box);
    const small = resize(repenned, newW, newH, FILTERS.lanczos, 3.0);
    const out = new Uint8Array(c.side * c.side);
    const top = Math.floor((c.side - newH) / 2);
    const left = Math.floor((c.side - newW) / 2);
    for (let y = 0; y < newH; y++) out.set(small.data.subarray(y * newW, (y + 1) * newW), (top + y) * c.side + left);
    return { letter: out };
  }

  return { PORTED_VERSION, letterArray };
})();
