//! Scanning a checkpoint's QR code with the phone's camera: the browser's `BarcodeDetector`
//! where it has one (Android's Chrome), the `rqrr` decoder otherwise. Frames are read a few
//! times a second from the camera's video into a canvas, at most 640 pixels wide; the camera
//! is let go as soon as a code is read or the scanner is closed.

use std::rc::Rc;

use leptos::prelude::*;
use leptos::task::spawn_local;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{CanvasRenderingContext2d, HtmlCanvasElement, HtmlVideoElement, MediaStream};

use crate::i18n::*;

/// How often a frame is looked at, in ms.
const FRAME_EVERY_MS: i32 = 200;
/// Frames are scaled down to this width before decoding.
const MAX_WIDTH: u32 = 640;

/// The camera's picture with a frame to aim; `on_code` gets the text of the first QR code
/// read, `on_close` is called when the guard closes it.
#[component]
pub fn Scanner(
    #[prop(into)] on_code: Callback<String>,
    #[prop(into)] on_close: Callback<()>,
) -> impl IntoView {
    let i18n = use_i18n();
    let video = NodeRef::<leptos::html::Video>::new();
    let failed = RwSignal::new(false);
    // Set when the scanner goes away; the reading loop then lets the camera go.
    let open = StoredValue::new(true);
    on_cleanup(move || open.set_value(false));
    Effect::new(move |started: Option<bool>| {
        if started == Some(true) {
            return true;
        }
        let Some(element) = video.get() else {
            return false;
        };
        let element: HtmlVideoElement = element;
        spawn_local(async move {
            let stream = match open_camera().await {
                Ok(stream) => stream,
                Err(_) => {
                    let _ = failed.try_set(true);
                    return;
                }
            };
            // Closed while the browser asked for the camera: let it go at once.
            if !open.try_get_value().unwrap_or(false) {
                stop(&stream);
                return;
            }
            element.set_src_object(Some(&stream));
            element.set_muted(true);
            if let Ok(playing) = element.play() {
                let _ = JsFuture::from(playing).await;
            }
            let reader = Reader::new();
            while open.try_get_value().unwrap_or(false) {
                crate::time::sleep(FRAME_EVERY_MS).await;
                if !open.try_get_value().unwrap_or(false) {
                    break;
                }
                if let Some(text) = reader.read(&element).await {
                    // Closed while the frame was being read: the guard cancelled, nothing
                    // is recorded.
                    let still_open = open.try_get_value().unwrap_or(false);
                    open.try_set_value(false);
                    stop(&stream);
                    if still_open {
                        on_code.try_run(text);
                    }
                    return;
                }
            }
            stop(&stream);
        });
        true
    });
    view! {
        <div class="scanner" data-testid="scanner" role="dialog" aria-modal="true" aria-labelledby="scanner-title">
            <h2 id="scanner-title">{t!(i18n, scan.title)}</h2>
            <Show when=move || failed.get()>
                <p class="warning" data-testid="scanner-failed">{t!(i18n, scan.no_camera)}</p>
            </Show>
            <video node_ref=video class="scanner-video" autoplay=true playsinline=true muted=true></video>
            <button type="button" class="secondary big" data-testid="scanner-close" on:click=move |_| on_close.run(())>
                {t!(i18n, scan.close)}
            </button>
        </div>
    }
}

async fn open_camera() -> Result<MediaStream, JsValue> {
    let devices = window().navigator().media_devices()?;
    let constraints = web_sys::MediaStreamConstraints::new();
    let video = js_sys::Object::new();
    js_sys::Reflect::set(&video, &"facingMode".into(), &"environment".into())?;
    constraints.set_video(&video);
    constraints.set_audio(&JsValue::FALSE);
    let stream = JsFuture::from(devices.get_user_media_with_constraints(&constraints)?).await?;
    stream.dyn_into()
}

fn stop(stream: &MediaStream) {
    for track in stream.get_tracks() {
        if let Ok(track) = track.dyn_into::<web_sys::MediaStreamTrack>() {
            track.stop();
        }
    }
}

/// Reads QR codes from video frames.
struct Reader {
    canvas: Option<(HtmlCanvasElement, CanvasRenderingContext2d)>,
    /// The browser's detector, if it has one that reads QR codes.
    detector: Option<Rc<JsValue>>,
}

impl Reader {
    fn new() -> Self {
        let canvas = document()
            .create_element("canvas")
            .ok()
            .and_then(|c| c.dyn_into::<HtmlCanvasElement>().ok())
            .and_then(|canvas| {
                let context = canvas
                    .get_context_with_context_options("2d", &{
                        let options = js_sys::Object::new();
                        let _ = js_sys::Reflect::set(
                            &options,
                            &"willReadFrequently".into(),
                            &JsValue::TRUE,
                        );
                        options.into()
                    })
                    .ok()??
                    .dyn_into::<CanvasRenderingContext2d>()
                    .ok()?;
                Some((canvas, context))
            });
        Self {
            canvas,
            detector: browser_detector().map(Rc::new),
        }
    }

    /// The text of a QR code in the video's current frame, if one is read.
    async fn read(&self, video: &HtmlVideoElement) -> Option<String> {
        let (canvas, context) = self.canvas.as_ref()?;
        let (w, h) = (video.video_width(), video.video_height());
        if video.ready_state() < 2 || w == 0 || h == 0 {
            return None;
        }
        let scale = (f64::from(MAX_WIDTH) / f64::from(w)).min(1.0);
        let (w, h) = ((f64::from(w) * scale) as u32, (f64::from(h) * scale) as u32);
        canvas.set_width(w);
        canvas.set_height(h);
        context
            .draw_image_with_html_video_element_and_dw_and_dh(
                video,
                0.0,
                0.0,
                f64::from(w),
                f64::from(h),
            )
            .ok()?;
        if let Some(detector) = &self.detector {
            if let Some(text) = detect(detector, canvas).await {
                return Some(text);
            }
        }
        let pixels = context
            .get_image_data(0.0, 0.0, f64::from(w), f64::from(h))
            .ok()?
            .data();
        decode(&pixels, w as usize, h as usize)
    }
}

/// `new BarcodeDetector({formats: ["qr_code"]})`, where the browser has it.
fn browser_detector() -> Option<JsValue> {
    let constructor = js_sys::Reflect::get(&window(), &"BarcodeDetector".into()).ok()?;
    let constructor: js_sys::Function = constructor.dyn_into().ok()?;
    let options = js_sys::Object::new();
    let formats = js_sys::Array::of1(&"qr_code".into());
    js_sys::Reflect::set(&options, &"formats".into(), &formats).ok()?;
    js_sys::Reflect::construct(&constructor, &js_sys::Array::of1(&options)).ok()
}

async fn detect(detector: &JsValue, canvas: &HtmlCanvasElement) -> Option<String> {
    let method: js_sys::Function = js_sys::Reflect::get(detector, &"detect".into())
        .ok()?
        .dyn_into()
        .ok()?;
    let promise: js_sys::Promise = method.call1(detector, canvas).ok()?.dyn_into().ok()?;
    let found: js_sys::Array = JsFuture::from(promise).await.ok()?.dyn_into().ok()?;
    let first = found.get(0);
    js_sys::Reflect::get(&first, &"rawValue".into())
        .ok()?
        .as_string()
}

/// The first QR code `rqrr` reads in an RGBA frame `w` × `h`.
fn decode(rgba: &[u8], w: usize, h: usize) -> Option<String> {
    if rgba.len() < w * h * 4 {
        return None;
    }
    let luma = |x: usize, y: usize| {
        let i = (y * w + x) * 4;
        // ITU-R BT.601 weights, in integers.
        ((u32::from(rgba[i]) * 299 + u32::from(rgba[i + 1]) * 587 + u32::from(rgba[i + 2]) * 114)
            / 1000) as u8
    };
    let mut image = rqrr::PreparedImage::prepare_from_greyscale(w, h, luma);
    image
        .detect_grids()
        .into_iter()
        .find_map(|grid| grid.decode().ok().map(|(_, text)| text))
}
