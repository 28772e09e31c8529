//! datap - the Rust twin of datap.c, a small data-processing program for
//! WASI (wasm32-wasi).
//!
//!   datap [--exit N] [TAG...]
//!
//! Reads /data/input.json, a JSON array whose items are integers or objects
//! such as {"name": "apples", "value": 12}, and writes a summary to
//! /data/output.json: how many numbers and objects there were, their sums
//! (multiplied by the environment variable DATAP_SCALE, default 1), the
//! smallest and largest number, the objects' names, and the TAGs given on
//! the command line. It prints one line on stdout and exits with N (default
//! 0) on success; 1 when a file cannot be read or written, 2 on bad
//! arguments, 3 when the input is not the expected JSON. Output and exit
//! codes are the same as datap.c's, byte for byte.
//!
//! Build: rustc --target wasm32-wasi -O datap.rs -o datap.wasm
//! Run:   wasmbox run --dir ./data::/data --env DATAP_SCALE=2 datap.wasm a b

use std::env;
use std::fmt::Write as _;
use std::fs;
use std::process;

const INPUT: &str = "/data/input.json";
const OUTPUT: &str = "/data/output.json";
const MAX_STRING: usize = 255;

#[derive(Default)]
struct Summary {
    n_numbers: i64,
    sum: i64,
    min: i64,
    max: i64,
    n_objects: i64,
    object_sum: i64,
    names: Vec<String>,
}

struct Reader<'a> {
    text: &'a [u8],
    pos: usize,
}

type Res<T> = Result<T, &'static str>;

impl<'a> Reader<'a> {
    fn skip_space(&mut self) {
        while self.pos < self.text.len() && b" \t\n\r".contains(&self.text[self.pos]) {
            self.pos += 1;
        }
    }

    fn at(&self) -> Option<u8> {
        self.text.get(self.pos).copied()
    }

    fn peek(&mut self, c: u8) -> bool {
        self.skip_space();
        self.at() == Some(c)
    }

    fn expect(&mut self, c: u8, what: &'static str) -> Res<()> {
        if self.peek(c) {
            self.pos += 1;
            Ok(())
        } else {
            Err(what)
        }
    }

    fn int(&mut self) -> Res<i64> {
        self.skip_space();
        let neg = self.at() == Some(b'-');
        if neg {
            self.pos += 1;
        }
        if !matches!(self.at(), Some(b'0'..=b'9')) {
            return Err("expected a number");
        }
        let mut v: i64 = 0;
        while let Some(d @ b'0'..=b'9') = self.at() {
            v = v
                .checked_mul(10)
                .and_then(|v| v.checked_add(i64::from(d - b'0')))
                .ok_or("number too large")?;
            self.pos += 1;
        }
        if matches!(self.at(), Some(b'.' | b'e' | b'E')) {
            return Err("only integers are supported");
        }
        Ok(if neg { -v } else { v })
    }

    fn string(&mut self) -> Res<String> {
        self.expect(b'"', "expected a string")?;
        let mut out = Vec::new();
        loop {
            let c = match self.at() {
                None => return Err("unterminated string"),
                Some(b'"') => break,
                Some(c) if c < 0x20 => return Err("control character in string"),
                Some(c) => c,
            };
            self.pos += 1;
            let c = if c == b'\\' {
                let e = match self.at() {
                    None => return Err("unterminated string"),
                    Some(e) => e,
                };
                self.pos += 1;
                match e {
                    b'"' => b'"',
                    b'\\' => b'\\',
                    b'/' => b'/',
                    b'n' => b'\n',
                    b't' => b'\t',
                    b'r' => b'\r',
                    _ => return Err("unsupported escape in string"),
                }
            } else {
                c
            };
            if out.len() >= MAX_STRING {
                return Err("string too long");
            }
            out.push(c);
        }
        self.pos += 1;
        String::from_utf8(out).map_err(|_| "string is not UTF-8")
    }

    fn word(&mut self, w: &str) -> Res<()> {
        if self.text[self.pos..].starts_with(w.as_bytes()) {
            self.pos += w.len();
            Ok(())
        } else {
            Err("unexpected character")
        }
    }

    fn object(&mut self, s: &mut Summary) -> Res<()> {
        self.expect(b'{', "expected '{'")?;
        let mut name = None;
        let mut value = 0i64;
        if !self.peek(b'}') {
            loop {
                let key = self.string()?;
                self.expect(b':', "expected ':'")?;
                self.skip_space();
                match (key.as_str(), self.at()) {
                    ("name", _) => name = Some(self.string()?),
                    ("value", _) => value = self.int()?,
                    (_, Some(b'"')) => {
                        self.string()?;
                    }
                    (_, Some(b'-' | b'0'..=b'9')) => {
                        self.int()?;
                    }
                    (_, Some(b't')) => self.word("true")?,
                    (_, Some(b'f')) => self.word("false")?,
                    (_, Some(b'n')) => self.word("null")?,
                    _ => return Err("unsupported value in object"),
                }
                if !self.peek(b',') {
                    break;
                }
                self.pos += 1;
            }
        }
        self.expect(b'}', "expected ',' or '}'")?;
        s.object_sum = s.object_sum.checked_add(value).ok_or("sum too large")?;
        s.n_objects += 1;
        if let Some(name) = name {
            s.names.push(name);
        }
        Ok(())
    }

    fn input(&mut self, s: &mut Summary) -> Res<()> {
        self.expect(b'[', "expected '['")?;
        if !self.peek(b']') {
            loop {
                if self.peek(b'{') {
                    self.object(s)?;
                } else {
                    let v = self.int()?;
                    s.sum = s.sum.checked_add(v).ok_or("sum too large")?;
                    if s.n_numbers == 0 || v < s.min {
                        s.min = v;
                    }
                    if s.n_numbers == 0 || v > s.max {
                        s.max = v;
                    }
                    s.n_numbers += 1;
                }
                if !self.peek(b',') {
                    break;
                }
                self.pos += 1;
            }
        }
        self.expect(b']', "expected ',' or ']'")?;
        self.skip_space();
        if self.pos != self.text.len() {
            return Err("trailing characters after the array");
        }
        Ok(())
    }
}

fn json_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

fn main() {
    let args: Vec<String> = env::args().collect();
    let prog = args.first().map(String::as_str).unwrap_or("datap");
    let mut exit_code = 0;
    let mut tags = args.get(1..).unwrap_or(&[]);
    if tags.first().map(String::as_str) == Some("--exit") {
        match tags.get(1).and_then(|v| v.parse::<u8>().ok()) {
            Some(code) => exit_code = i32::from(code),
            None => {
                eprintln!("usage: {} [--exit 0..255] [TAG...]", prog);
                process::exit(2);
            }
        }
        tags = &tags[2..];
    }
    let scale: i64 = match env::var("DATAP_SCALE") {
        Ok(v) => match v.parse() {
            Ok(n) => n,
            Err(_) => {
                eprintln!("datap: DATAP_SCALE is not an integer: {}", v);
                process::exit(2);
            }
        },
        Err(_) => 1,
    };

    let text = match fs::read(INPUT) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("datap: {}: {}", INPUT, e);
            process::exit(1);
        }
    };
    let mut s = Summary::default();
    let mut r = Reader { text: &text, pos: 0 };
    if let Err(why) = r.input(&mut s) {
        eprintln!("datap: {}: byte {}: {}", INPUT, r.pos, why);
        process::exit(3);
    }
    let (sum, object_sum) = match (s.sum.checked_mul(scale), s.object_sum.checked_mul(scale)) {
        (Some(a), Some(b)) => (a, b),
        _ => {
            eprintln!("datap: scaled sums too large");
            process::exit(3);
        }
    };

    let mut out = String::from("{\n  \"tags\": [");
    for (i, tag) in tags.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        json_string(&mut out, tag);
    }
    let _ = write!(out, "],\n  \"scale\": {},\n", scale);
    let _ = write!(out, "  \"numbers\": {{\"count\": {}, \"sum\": {}", s.n_numbers, sum);
    if s.n_numbers > 0 {
        let _ = write!(out, ", \"min\": {}, \"max\": {}", s.min, s.max);
    }
    let _ = write!(
        out,
        "}},\n  \"objects\": {{\"count\": {}, \"sum\": {}, \"names\": [",
        s.n_objects, object_sum
    );
    for (i, name) in s.names.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        json_string(&mut out, name);
    }
    out.push_str("]}\n}\n");
    if let Err(e) = fs::write(OUTPUT, out) {
        eprintln!("datap: {}: {}", OUTPUT, e);
        process::exit(1);
    }
    println!(
        "datap: {} numbers, {} objects, {} tags; wrote {}",
        s.n_numbers,
        s.n_objects,
        tags.len(),
        OUTPUT
    );
    process::exit(exit_code);
}
