//! Key and value deserializers: the Rust form of kafka-python's `key_deserializer=` and
//! `value_deserializer=` arguments (the consumer's mirror of [`crate::serializer`]).
//!
//! A null key or value never reaches a deserializer: the record carries `None`.
//!
//! ```
//! use bytes::Bytes;
//! use mockafka_client::deserializer::{Deserializer, StringDeserializer};
//! let s = StringDeserializer.deserialize("flipflap", Bytes::from_static(b"ping")).unwrap();
//! assert_eq!(s, "ping");
//! ```

use bytes::Bytes;

/// The error a deserializer returns; boxed so that user deserializers can return anything.
pub type DeserializeError = Box<dyn std::error::Error + Send + Sync>;

/// Turns the bytes stored in Kafka into a key or value.
///
/// Implement it for your own formats; it runs on the caller's task inside
/// [`crate::Consumer::poll`] and friends.
pub trait Deserializer: Send + Sync + 'static {
    /// The type this deserializer produces.
    type Output;

    /// Deserializes `bytes`, read from `topic`.
    ///
    /// # Errors
    /// Whatever the format rejects; the consumer reports it as
    /// [`crate::ClientError::Deserialization`] naming the record's partition and offset.
    fn deserialize(&self, topic: &str, bytes: Bytes) -> Result<Self::Output, DeserializeError>;
}

/// Raw bytes, as stored (the consumer's default for keys and values).
#[derive(Debug, Clone, Copy, Default)]
pub struct BytesDeserializer;

impl Deserializer for BytesDeserializer {
    type Output = Bytes;
    fn deserialize(&self, _topic: &str, bytes: Bytes) -> Result<Bytes, DeserializeError> {
        Ok(bytes)
    }
}

/// UTF-8 strings (kafka-python's `bytes.decode`); invalid UTF-8 is an error.
#[derive(Debug, Clone, Copy, Default)]
pub struct StringDeserializer;

impl Deserializer for StringDeserializer {
    type Output = String;
    fn deserialize(&self, _topic: &str, bytes: Bytes) -> Result<String, DeserializeError> {
        Ok(String::from_utf8(bytes.to_vec())?)
    }
}

/// Any closure `Fn(&str, Bytes) -> Result<T, DeserializeError>` is a deserializer.
#[derive(Clone, Copy)]
pub struct FnDeserializer<T, F> {
    f: F,
    _t: std::marker::PhantomData<fn() -> T>,
}

impl<T, F> std::fmt::Debug for FnDeserializer<T, F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("FnDeserializer")
    }
}

impl<T, F> FnDeserializer<T, F>
where
    F: Fn(&str, Bytes) -> Result<T, DeserializeError>,
{
    /// Wraps `f`.
    pub fn new(f: F) -> Self {
        Self {
            f,
            _t: std::marker::PhantomData,
        }
    }
}

impl<T: 'static, F> Deserializer for FnDeserializer<T, F>
where
    F: Fn(&str, Bytes) -> Result<T, DeserializeError> + Send + Sync + 'static,
{
    type Output = T;
    fn deserialize(&self, topic: &str, bytes: Bytes) -> Result<T, DeserializeError> {
        (self.f)(topic, bytes)
    }
}

/// JSON through serde_json (kafka-python's `lambda m: json.loads(m.decode('utf-8'))`).
#[cfg(feature = "json")]
pub struct JsonDeserializer<T>(std::marker::PhantomData<fn() -> T>);

#[cfg(feature = "json")]
impl<T> JsonDeserializer<T> {
    /// A JSON deserializer for `T`.
    pub fn new() -> Self {
        Self(std::marker::PhantomData)
    }
}

#[cfg(feature = "json")]
impl<T> Default for JsonDeserializer<T> {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(feature = "json")]
impl<T> std::fmt::Debug for JsonDeserializer<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("JsonDeserializer")
    }
}

#[cfg(feature = "json")]
impl<T: serde::de::DeserializeOwned + 'static> Deserializer for JsonDeserializer<T> {
    type Output = T;
    fn deserialize(&self, _topic: &str, bytes: Bytes) -> Result<T, DeserializeError> {
        Ok(serde_json::from_slice(&bytes)?)
    }
}

/// MessagePack through rmp-serde (kafka-python's `msgpack.loads`, the tutorial's C5).
#[cfg(feature = "msgpack")]
pub struct MsgPackDeserializer<T>(std::marker::PhantomData<fn() -> T>);

#[cfg(feature = "msgpack")]
impl<T> MsgPackDeserializer<T> {
    /// A MessagePack deserializer for `T`.
    pub fn new() -> Self {
        Self(std::marker::PhantomData)
    }
}

#[cfg(feature = "msgpack")]
impl<T> Default for MsgPackDeserializer<T> {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(feature = "msgpack")]
impl<T> std::fmt::Debug for MsgPackDeserializer<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MsgPackDeserializer")
    }
}

#[cfg(feature = "msgpack")]
impl<T: serde::de::DeserializeOwned + 'static> Deserializer for MsgPackDeserializer<T> {
    type Output = T;
    fn deserialize(&self, _topic: &str, bytes: Bytes) -> Result<T, DeserializeError> {
        Ok(rmp_serde::from_slice(&bytes)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_deserializers_read_what_the_serializers_write() {
        let b = BytesDeserializer
            .deserialize("t", Bytes::from_static(b"\x00\x01"))
            .unwrap();
        assert_eq!(&b[..], b"\x00\x01");
        assert_eq!(
            StringDeserializer
                .deserialize("t", Bytes::from_static(b"ping"))
                .unwrap(),
            "ping"
        );
        assert!(StringDeserializer
            .deserialize("t", Bytes::from_static(b"\xff"))
            .is_err());
        let len = FnDeserializer::new(|_t: &str, b: Bytes| Ok(b.len()));
        assert_eq!(len.deserialize("t", Bytes::from_static(b"abc")).unwrap(), 3);
    }

    #[cfg(feature = "json")]
    #[test]
    fn json_reads_python_json_dumps() {
        let d = JsonDeserializer::<serde_json::Value>::new();
        let v = d
            .deserialize("t", Bytes::from_static(br#"{"foo": "bar"}"#))
            .unwrap();
        assert_eq!(v, serde_json::json!({"foo": "bar"}));
        assert!(d.deserialize("t", Bytes::from_static(b"{")).is_err());
    }

    #[cfg(feature = "msgpack")]
    #[test]
    fn msgpack_reads_a_python_dict() {
        #[derive(serde::Deserialize, PartialEq, Debug)]
        struct V {
            key: String,
        }
        let d = MsgPackDeserializer::<V>::new();
        let v = d
            .deserialize("t", Bytes::from_static(b"\x81\xa3key\xa5value"))
            .unwrap();
        assert_eq!(v.key, "value");
    }
}
