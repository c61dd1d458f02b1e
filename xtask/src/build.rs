//! `cargo xtask build-client`: the app built for the browser in `client/dist`: the release
//! wasm split into the main module and lazily loaded chunks, bound and optimised, the first
//! screen's words, the icons, the service worker's list, each file precompressed; and the
//! figures `cargo xtask bench` reports of it.

use std::collections::{HashMap, HashSet};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};

use crate::{cargo, run, step, target_dir, APP_DIR, WASM_GZIP_BUDGET, WASM_TARGET};

/// Builds the app (profile `wasm`), runs wasm-bindgen and wasm-opt, writes `client/dist`, and
/// enforces the size budget.
pub fn build_client() -> Result<()> {
    step("building the web app (profile `wasm`: release, built for size; wasm32)");
    run(cargo().args([
        "build",
        "-p",
        "gatehouse-client",
        "--profile",
        "wasm",
        "--target",
        WASM_TARGET,
    ]))?;
    let wasm = target_dir()
        .join(WASM_TARGET)
        .join("wasm")
        .join("gatehouse-client.wasm");
    let dist = Path::new("client/dist");
    if dist.exists() {
        std::fs::remove_dir_all(dist)?;
    }
    // The app's code (the page's script, the styles, the wasm, its chunks) goes to
    // `app/<hash of those files>/`: the server lets browsers keep a file under such a name
    // for good, and a new build gets a new folder. Chunks are split from one build's main
    // module and work with it only, so a folder per build is the unit. Inside it, files
    // name each other relatively (`./app.js`), so the folder's name is chosen at the end.
    let staging = dist.join(APP_DIR).join("next");
    std::fs::create_dir_all(&staging)?;
    // Screens marked `#[lazy]` (the technician's, the admin's) go to chunks fetched when first
    // shown; the service worker keeps them, so they open offline too.
    step("splitting the lazily loaded screens out of the main module");
    let main_wasm = wasm.with_file_name("gatehouse-client_split.wasm");
    let input = std::fs::read(&wasm)?;
    let split = wasm_split_cli_support::transform({
        let mut options = wasm_split_cli_support::Options::new(&input);
        options.output_dir = &staging;
        options.main_out_path = &main_wasm;
        options.main_module = "./app.js";
        options.link_name = "./__wasm_split.js";
        options
    })
    .map_err(|e| anyhow::anyhow!("splitting the wasm: {e:#}"))?;
    run(Command::new("wasm-bindgen")
        .arg(&main_wasm)
        .args([
            "--target",
            "web",
            "--no-typescript",
            "--keep-lld-exports",
            "--no-demangle",
            "--out-name",
            "app",
            "--out-dir",
        ])
        .arg(&staging))?;
    step("optimising with wasm-opt -Oz");
    let chunk_names = split
        .split_modules
        .iter()
        .map(|chunk| {
            chunk
                .file_name()
                .and_then(|n| n.to_str())
                .map(str::to_owned)
                .context("a chunk's file name")
        })
        .collect::<Result<Vec<String>>>()?;
    for module in std::iter::once("app_bg.wasm").chain(chunk_names.iter().map(String::as_str)) {
        let module = staging.join(module);
        run(Command::new("e2e/node_modules/.bin/wasm-opt")
            .arg(&module)
            .args([
                "-Oz",
                "--enable-bulk-memory",
                "--enable-sign-ext",
                "--enable-nontrapping-float-to-int",
                "--enable-mutable-globals",
                "--enable-reference-types",
                "--enable-multivalue",
                "-o",
            ])
            .arg(&module))?;
    }
    let field = field_chunks(&split.prefetch_map)?;
    let lazy = bundle_shared_chunks(&staging, &chunk_names, &field)?;
    for file in ["boot.js", "app.css"] {
        std::fs::copy(Path::new("client/static").join(file), staging.join(file))?;
    }
    let mut built: Vec<String> = std::fs::read_dir(&staging)?
        .map(|entry| Ok(entry?.file_name().to_string_lossy().into_owned()))
        .collect::<Result<_>>()?;
    built.sort();
    let mut hasher = std::hash::DefaultHasher::new();
    for name in &built {
        std::hash::Hash::hash(name, &mut hasher);
        std::hash::Hash::hash(&std::fs::read(staging.join(name))?, &mut hasher);
    }
    let version = format!("{:016x}", std::hash::Hasher::finish(&hasher));
    let app = dist.join(APP_DIR).join(&version);
    std::fs::rename(&staging, &app)?;
    let app_path = format!("/{APP_DIR}/{version}");

    std::fs::copy(
        "client/static/manifest.webmanifest",
        dist.join("manifest.webmanifest"),
    )?;
    std::fs::write(
        dist.join("index.html"),
        first_screen(&std::fs::read_to_string("client/static/index.html")?)?
            .replace("__APP__", &app_path),
    )?;
    for size in ICON_SIZES {
        std::fs::write(dist.join(format!("icon-{size}.png")), icon_png(size)?)?;
    }
    // What the service worker keeps: the page, the files that keep their names, and every
    // file of the build.
    let mut assets: Vec<String> = [
        "/",
        "/index.html",
        "/manifest.webmanifest",
        "/icon-192.png",
        "/icon-512.png",
    ]
    .map(str::to_owned)
    .to_vec();
    assets.extend(built.iter().map(|name| format!("{app_path}/{name}")));
    let list = format!(
        "[{}]",
        assets
            .iter()
            .map(|a| format!("'{a}'"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    // The worker's cache is new when any file it keeps is (the page's words, say).
    let mut hasher = std::hash::DefaultHasher::new();
    std::hash::Hash::hash(&version, &mut hasher);
    for asset in &assets[1..] {
        if !asset.starts_with(&app_path) {
            std::hash::Hash::hash(&std::fs::read(dist.join(&asset[1..]))?, &mut hasher);
        }
    }
    let worker_version = format!("{:016x}", std::hash::Hasher::finish(&hasher));
    let worker = std::fs::read_to_string("client/static/sw.js")?
        .replace("__VERSION__", &worker_version)
        .replace("__ASSETS__", &list);
    std::fs::write(dist.join("sw.js"), worker)?;

    precompress(dist)?;
    precompress(&app)?;
    let bindgen_wasm = app.join("app_bg.wasm");
    let chunks: Vec<PathBuf> = lazy.iter().map(|name| app.join(name)).collect();
    let raw = std::fs::read(&bindgen_wasm)?;
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(&raw)?;
    let gzip = encoder.finish()?.len();
    println!(
        "app_bg.wasm: {} KB raw, {} KB gzip (budget {} KB)",
        raw.len() / 1024,
        gzip / 1024,
        WASM_GZIP_BUDGET / 1024
    );
    for chunk in &chunks {
        let bytes = std::fs::read(chunk)?;
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        encoder.write_all(&bytes)?;
        println!(
            "  lazily loaded {}: {} KB raw, {} KB gzip",
            chunk.display(),
            bytes.len() / 1024,
            encoder.finish()?.len() / 1024
        );
    }
    if gzip > WASM_GZIP_BUDGET {
        bail!("the app's wasm is {gzip} bytes gzip-compressed, over the {WASM_GZIP_BUDGET}-byte budget");
    }
    Ok(())
}

/// The files the chunks of code that lazily loaded screens share go into: the first holds
/// the chunks the records engine and the field's screens need (`FIELD_SPLITS`), the second
/// the rest (the office's and the admin's screens), which a phone in the field need not wait
/// for on its first start.
const SHARED_CHUNKS: [&str; 2] = ["chunks.bin", "chunks-desk.bin"];

/// The `#[lazy]` functions (as `wasm_split` names them, less their hash) whose chunks go into
/// the first file: the records engine and what `preload_field_screens` in `client/src/app.rs`
/// fetches first. A name here that the split does not produce fails the build; a field
/// screen missing here only waits longer for its code on a first start.
const FIELD_SPLITS: &[&str] = &[
    "open_records",
    "signed_in",
    "sync_now",
    "export_unsynced",
    "record_screen",
    "patrol_home",
    "patrol_record",
    "technician_home",
    "repair_body",
    "slips_screen",
    "slip_body",
    "registry_screen",
    "device_revoked_screen",
    "restore_kept",
    "fetch_and_keep",
];

/// What `bundle_shared_chunks` adds to the loader: `__FILES__` becomes the files' names,
/// `__INDEX__` each chunk's place.
const SHARED_CHUNKS_LOADER: &str = r#"
// Added by `cargo xtask build-client`: the chunks of code that lazily loaded screens share
// come in two files (the field's, then the rest), each fetched once (hundreds of small files
// cost a round trip each on a slow link), and each chunk is taken from its file by its
// place: [file, start, length].
const SHARED_FILES = __FILES__;
const SHARED_CHUNKS = __INDEX__;
const sharedFiles = [];
function sharedChunk(name) {
  const [file, start, length] = SHARED_CHUNKS[name];
  if (sharedFiles[file] === undefined) {
    const fetched = fetch(new URL(`./${SHARED_FILES[file]}`, import.meta.url)).then((response) => {
      if (!response.ok) throw new Error(`${SHARED_FILES[file]}: ${response.status}`);
      return response.arrayBuffer();
    });
    // A failure is not kept: the next load tries again.
    fetched.catch(() => {
      if (sharedFiles[file] === fetched) sharedFiles[file] = undefined;
    });
    sharedFiles[file] = fetched;
  }
  return sharedFiles[file].then((bytes) => new Response(bytes.slice(start, start + length), {
    headers: { "Content-Type": "application/wasm" },
  }));
}
"#;

/// The shared chunks (`chunk_N`) that the splits named in `FIELD_SPLITS` need, from the
/// split's map of each split (`name_hash`) to the files it loads.
fn field_chunks(prefetch: &HashMap<String, Vec<String>>) -> Result<HashSet<String>> {
    let mut chunks = HashSet::new();
    for field in FIELD_SPLITS {
        let mut found = false;
        for (split, files) in prefetch {
            let name = split
                .rsplit_once('_')
                .map_or(split.as_str(), |(name, _)| name);
            if name == *field {
                found = true;
                chunks.extend(files.iter().filter(|f| f.starts_with("chunk_")).cloned());
            }
        }
        if !found {
            bail!("FIELD_SPLITS names {field}, which the split did not produce: was it renamed?");
        }
    }
    Ok(chunks)
}

/// Puts the chunks of code that the lazily loaded screens share (`chunk_N.wasm`: hundreds of
/// small files, of which the guard's home alone needs about a hundred) into two files in
/// `dir` (`SHARED_CHUNKS`: those in `field`, then the rest), and has the loader wasm-split
/// wrote (`__wasm_split.js`) take each from its file. On a slow link each file cost a round
/// trip, six at a time: 9 s before the guard's home could show. Returns the lazily loaded
/// files left as they were (one per screen) and the bundles.
fn bundle_shared_chunks(
    dir: &Path,
    names: &[String],
    field: &HashSet<String>,
) -> Result<Vec<String>> {
    let link = dir.join("__wasm_split.js");
    let mut loader = std::fs::read_to_string(&link)?;
    let (mut bundles, mut index, mut left) = ([Vec::new(), Vec::new()], Vec::new(), Vec::new());
    for name in names {
        let Some(chunk) = name
            .strip_suffix(".wasm")
            .filter(|stem| stem.starts_with("chunk_"))
        else {
            left.push(name.clone());
            continue;
        };
        let fetch = format!("fetch(new URL(\"./{name}\", import.meta.url))");
        if loader.matches(&fetch).count() != 1 {
            bail!("__wasm_split.js does not fetch {name} as expected (`{fetch}` once): did wasm_split_cli_support change how it loads chunks?");
        }
        loader = loader.replace(&fetch, &format!("sharedChunk(\"{chunk}\")"));
        let bytes = std::fs::read(dir.join(name))?;
        let file = usize::from(!field.contains(chunk));
        index.push(format!(
            "\"{chunk}\": [{file}, {}, {}]",
            bundles[file].len(),
            bytes.len()
        ));
        bundles[file].extend_from_slice(&bytes);
        std::fs::remove_file(dir.join(name))?;
    }
    if !index.is_empty() {
        if bundles[0].is_empty() {
            bail!("no shared chunk is the field's: did wasm_split_cli_support change how it names them?");
        }
        let files: Vec<String> = SHARED_CHUNKS.iter().map(|f| format!("\"{f}\"")).collect();
        loader.push_str(
            &SHARED_CHUNKS_LOADER
                .replace("__INDEX__", &format!("{{{}}}", index.join(", ")))
                .replace("__FILES__", &format!("[{}]", files.join(", "))),
        );
        std::fs::write(&link, loader)?;
        for (file, bytes) in SHARED_CHUNKS.iter().zip(&bundles) {
            std::fs::write(dir.join(file), bytes)?;
            left.push((*file).to_owned());
        }
    }
    Ok(left)
}

/// `index.html` with the words of its first screen put in from the locale files: `{{key}}`
/// in Simplified Chinese, `{{en:key}}` in English (`key` is `section.name`). A key missing
/// from either file fails the build.
fn first_screen(template: &str) -> Result<String> {
    let locale = |name: &str| -> Result<serde_json::Value> {
        let path = Path::new("client/locales").join(name);
        Ok(serde_json::from_str(&std::fs::read_to_string(&path)?)?)
    };
    let (zh, en) = (locale("zh-Hans.json")?, locale("en.json")?);
    let mut html = String::new();
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        let end = rest[start..]
            .find("}}")
            .context("an unclosed {{ in index.html")?
            + start;
        let key = &rest[start + 2..end];
        let (words, key) = match key.strip_prefix("en:") {
            Some(key) => (&en, key),
            None => (&zh, key),
        };
        let text = key
            .split('.')
            .try_fold(words, |value, part| value.get(part))
            .and_then(|value| value.as_str())
            .with_context(|| format!("index.html names {key}, which a locale file lacks"))?;
        html.push_str(&rest[..start]);
        html.push_str(&escape_html(text));
        rest = &rest[end + 2..];
    }
    html.push_str(rest);
    Ok(html)
}

fn escape_html(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The app icon's sizes (the manifest lists both; Android wants 192 and 512 px).
const ICON_SIZES: [u32; 2] = [192, 512];

/// The app icon: a gate (two posts and a lintel) in white on the app's green, drawn inside the
/// middle 60 % so that a maskable crop (a circle, a squircle) never cuts it.
fn icon_png(size: u32) -> Result<Vec<u8>> {
    const GREEN: [u8; 4] = [0x1d, 0x4d, 0x4f, 0xff];
    const WHITE: [u8; 4] = [0xff, 0xff, 0xff, 0xff];
    let unit = |fraction: f64| (f64::from(size) * fraction).round() as u32;
    let parts = [
        // (left, top, right, bottom) as fractions of the side
        (0.25, 0.28, 0.36, 0.74), // left post
        (0.64, 0.28, 0.75, 0.74), // right post
        (0.20, 0.24, 0.80, 0.33), // lintel
        (0.36, 0.44, 0.64, 0.50), // the bar across the gateway
    ];
    let mut pixels = Vec::with_capacity((size * size * 4) as usize);
    for y in 0..size {
        for x in 0..size {
            let inside = parts.iter().any(|&(l, t, r, b)| {
                (unit(l)..unit(r)).contains(&x) && (unit(t)..unit(b)).contains(&y)
            });
            pixels.extend(if inside { WHITE } else { GREEN });
        }
    }
    let mut out = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut out, size, size);
        encoder.set_color(png::ColorType::Rgba);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder.write_header()?;
        writer.write_image_data(&pixels)?;
    }
    Ok(out)
}

/// Writes every file of the app also brotli- and gzip-compressed (`file.br`, `file.gz`), at
/// the highest settings, once at build time; the server sends the one the browser accepts.
fn precompress(dist: &Path) -> Result<()> {
    for entry in std::fs::read_dir(dist)? {
        let path = entry?.path();
        let name = path.to_string_lossy().into_owned();
        if !path.is_file() || name.ends_with(".br") || name.ends_with(".gz") {
            continue;
        }
        let bytes = std::fs::read(&path)?;
        let mut gzip = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        gzip.write_all(&bytes)?;
        std::fs::write(format!("{name}.gz"), gzip.finish()?)?;
        let mut brotli = Vec::new();
        let params = brotli::enc::BrotliEncoderParams {
            quality: 11,
            lgwin: 24,
            ..Default::default()
        };
        brotli::BrotliCompress(&mut bytes.as_slice(), &mut brotli, &params)?;
        std::fs::write(format!("{name}.br"), brotli)?;
    }
    Ok(())
}

/// The folder of the app's build in `dist` (there is one: `build_client` starts afresh).
fn built_app(dist: &Path) -> Result<PathBuf> {
    let mut folders = std::fs::read_dir(dist.join(APP_DIR))
        .context("no app built: run cargo xtask build-client")?
        .map(|entry| Ok(entry?.path()))
        .collect::<Result<Vec<PathBuf>>>()?;
    match (folders.pop(), folders.is_empty()) {
        (Some(folder), true) => Ok(folder),
        _ => bail!("{} should hold one build", dist.join(APP_DIR).display()),
    }
}

/// What the app costs on the wire: the shell a phone loads first (HTML, JS, CSS, manifest,
/// service worker, main wasm) brotli-compressed, and the main wasm gzip-compressed and raw.
pub fn transfer_figures(dist: &Path) -> Result<(u64, u64, u64)> {
    let app = built_app(dist)?;
    let size = |path: PathBuf| std::fs::metadata(path).map(|m| m.len());
    let shell = [
        dist.join("index.html"),
        dist.join("manifest.webmanifest"),
        dist.join("sw.js"),
        app.join("boot.js"),
        app.join("app.js"),
        app.join("app.css"),
        app.join("__wasm_split.js"),
        app.join("app_bg.wasm"),
    ];
    let mut shell_br = 0;
    for file in shell {
        let mut compressed = file.into_os_string();
        compressed.push(".br");
        shell_br += size(compressed.into())?;
    }
    let size = |name: &str| size(app.join(name));
    Ok((shell_br, size("app_bg.wasm.gz")?, size("app_bg.wasm")?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::project_root;

    #[test]
    fn the_manifest_makes_the_app_installable() {
        std::env::set_current_dir(project_root()).expect("root exists");
        let text = std::fs::read_to_string("client/static/manifest.webmanifest").expect("manifest");
        let manifest: serde_json::Value = serde_json::from_str(&text).expect("manifest is JSON");
        for key in ["name", "short_name", "start_url", "display", "theme_color"] {
            assert!(manifest[key].is_string(), "{key}");
        }
        assert_eq!(manifest["display"], "standalone");
        let icons = manifest["icons"].as_array().expect("icons");
        for size in ICON_SIZES {
            let icon = icons
                .iter()
                .find(|i| i["sizes"] == format!("{size}x{size}"))
                .expect("an icon of each size");
            assert!(icon["purpose"]
                .as_str()
                .unwrap_or_default()
                .contains("maskable"));
            assert_eq!(icon["src"], format!("/icon-{size}.png"));
            // The PNG the build writes has that size (IHDR width and height).
            let png = icon_png(size).expect("icon");
            assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
            assert_eq!(png[16..20], size.to_be_bytes());
            assert_eq!(png[20..24], size.to_be_bytes());
        }
    }

    #[test]
    fn the_fields_chunks_are_those_its_splits_load_and_a_split_not_produced_fails() {
        let mut map = HashMap::new();
        for (i, field) in FIELD_SPLITS.iter().enumerate() {
            let split = format!("{field}_{i}4242");
            let files = vec![
                format!("chunk_{i}"),
                "chunk_0".into(),
                format!("split_{split}"),
            ];
            map.insert(split, files);
        }
        map.insert(
            "office_home_99".into(),
            vec!["chunk_0".into(), "chunk_900".into()],
        );
        let field = field_chunks(&map).expect("every field split is there");
        assert_eq!(field.len(), FIELD_SPLITS.len());
        assert!(field.contains("chunk_0") && field.contains("chunk_1"));
        assert!(!field.contains("chunk_900"), "the office's own chunk");
        map.remove(&format!("{}_04242", FIELD_SPLITS[0]));
        assert!(field_chunks(&map).is_err());
    }

    #[test]
    fn the_first_screen_has_its_words_in_both_languages() {
        std::env::set_current_dir(project_root()).expect("root exists");
        let template = std::fs::read_to_string("client/static/index.html").expect("index");
        let html = first_screen(&template).expect("every key is in both locale files");
        assert!(!html.contains("{{"), "{html}");
        assert!(html.contains(">正在打开…<"), "{html}");
        assert!(html.contains(r#"data-en="Opening…""#), "{html}");
        assert!(first_screen("<p>{{boot.nothing}}</p>").is_err());
        assert!(first_screen("<p>{{boot.title</p>").is_err());
        assert_eq!(
            escape_html(r#"<a href="x">&"#),
            "&lt;a href=&quot;x&quot;&gt;&amp;"
        );
    }
}
