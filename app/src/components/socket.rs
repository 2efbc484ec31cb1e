//! A live view's WebSocket: opened on this host (ws or wss as the page), each text message
//! handed to the caller, closed when the view that opened it goes away. In the browser only;
//! on the server there is nothing to stream to and the page renders the stored state.

#[cfg(feature = "hydrate")]
mod browser {
    use leptos::prelude::on_cleanup;
    use wasm_bindgen::closure::Closure;
    use wasm_bindgen::JsCast;

    /// Opens the WebSocket at `path`, calling `on_text` with every text message.
    pub fn open_socket(path: &str, mut on_text: impl FnMut(String) + 'static) {
        let Some(location) = web_sys::window().map(|w| w.location()) else {
            return;
        };
        let scheme = if location.protocol().ok().as_deref() == Some("https:") {
            "wss"
        } else {
            "ws"
        };
        let Ok(host) = location.host() else {
            return;
        };
        let Ok(socket) = web_sys::WebSocket::new(&format!("{scheme}://{host}{path}")) else {
            return;
        };
        let on_message = Closure::<dyn FnMut(web_sys::MessageEvent)>::new(
            move |event: web_sys::MessageEvent| {
                if let Some(text) = event.data().as_string() {
                    on_text(text);
                }
            },
        );
        socket.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        // The closure lives as long as the socket; the socket closes when the stream ends
        // or the view goes away.
        on_message.forget();
        let socket = send_wrapper::SendWrapper::new(socket);
        on_cleanup(move || {
            let _ = socket.close();
        });
    }
}

#[cfg(not(feature = "hydrate"))]
mod browser {
    /// On the server there is no browser to stream to.
    pub fn open_socket(_path: &str, _on_text: impl FnMut(String) + 'static) {}
}

pub use browser::open_socket;
