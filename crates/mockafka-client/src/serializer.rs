//! Key and value serializers: the Rust form of kafka-python's `key_serializer=` and
//! `value_serializer=` arguments.
//!
//! ```
//! use mockafka_client::serializer::{Serializer, StringSerializer};
//! let bytes = StringSerializer.serialize("flipflap", "ping".to_owned()).unwrap();
//! assert_eq!(&bytes[..], b"ping");
//! ```

use bytes::Bytes;

/// The error a serializer returns; boxed so that user serializers can return anything.
pub type SerializeError = Box<dyn std::error::Error + Send + Sync>;

/// Turns a key or value into the bytes stored in Kafka.
///
/// Implement it for your own formats; it runs on the caller's task inside
/// [`crate::Producer::send`].
pub trait Serializer: Send + Sync + 'static {
    /// The type this serializer accepts.
    type Input;

    /// Serializes `value`, which is for `topic`.
    ///
    /// # Errors
    /// Whatever the format rejects; the producer reports it as
    /// [`crate::ClientError::Serialization`] for that record alone.
    fn serialize(&self, topic: &str, value: Self::Input) -> Result<Bytes, SerializeError>;
}

/// Raw bytes, stored as given (the producer's default for keys and values).
#[derive(Debug, Clone, Copy, Default)]
pub struct BytesSerializer;

impl Serializer for BytesSerializer {
    type Input = Bytes;
    fn serialize(&self, _topic: &str, value: Bytes) -> Result<Bytes, SerializeError> {
        Ok(value)
    }
}

/// UTF-8 strings (kafka-python's `str.encode`).
#[derive(Debug, Clone, Copy, Default)]
pub struct StringSerializer;

impl Serializer for StringSerializer {
    type Input = String;
    fn serialize(&self, _topic: &str, value: String) -> Result<Bytes, SerializeError> {
        Ok(Bytes::from(value))
    }
}

/// Any closure `Fn(&str, T) -> Result<Bytes, SerializeError>` is a serializer.
#[derive(Clone, Copy)]
pub struct FnSerializer<T, F> {
    f: F,
    _t: std::marker::PhantomData<fn(T)>,
}

impl<T, F> std::fmt::Debug for FnSerializer<T, F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("FnSerializer")
    }
}

impl<T, F> FnSerializer<T, F>
where
    F: Fn(&str, T) -> Result<Bytes, SerializeError>,
{
    /// Wraps `f`.
    pub fn new(f: F) -> Self {
        Self {
            f,
            _t: std::marker::PhantomData,
        }
    }
}

impl<T: 'static, F> Serializer for FnSerializer<T, F>
where
    F: Fn(&str, T) -> Result<Bytes, SerializeError> + Send + Sync + 'static,
{
    type Input = T;
    fn serialize(&self, topic: &str, value: T) -> Result<Bytes, SerializeError> {
        (self.f)(topic, value)
    }
}

/// JSON through serde_json (kafka-python's `lambda v: json.dumps(v).encode('utf-8')`).
///
/// ```
/// use mockafka_client::serializer::{JsonSerializer, Serializer};
/// let s = JsonSerializer::<serde_json::Value>::new();
/// let bytes = s.serialize("foobar", serde_json::json!({"foo": "bar"})).unwrap();
/// assert_eq!(&bytes[..], br#"{"foo":"bar"}"#);
/// ```
/// With a producer: `Producer::builder().value_serializer(JsonSerializer::<MyType>::new())`,
/// then `ProducerRecord::new("foobar", my_value)`.
#[cfg(feature = "json")]
pub struct JsonSerializer<T>(std::marker::PhantomData<fn(T)>);

#[cfg(feature = "json")]
impl<T> JsonSerializer<T> {
    /// A JSON serializer for `T`.
    pub fn new() -> Self {
        Self(std::marker::PhantomData)
    }
}

#[cfg(feature = "json")]
impl<T> Default for JsonSerializer<T> {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(feature = "json")]
impl<T> std::fmt::Debug for JsonSerializer<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("JsonSerializer")
    }
}

#[cfg(feature = "json")]
impl<T: serde::Serialize + 'static> Serializer for JsonSerializer<T> {
    type Input = T;
    fn serialize(&self, _topic: &str, value: T) -> Result<Bytes, SerializeError> {
        Ok(Bytes::from(serde_json::to_vec(&value)?))
    }
}

/// MessagePack through rmp-serde (kafka-python's `msgpack.dumps`). Structs are written as
/// maps with field names, which is what Python's `msgpack.loads` reads back as a dict.
#[cfg(feature = "msgpack")]
pub struct MsgPackSerializer<T>(std::marker::PhantomData<fn(T)>);

#[cfg(feature = "msgpack")]
impl<T> MsgPackSerializer<T> {
    /// A MessagePack serializer for `T`.
    pub fn new() -> Self {
        Self(std::marker::PhantomData)
    }
}

#[cfg(feature = "msgpack")]
impl<T> Default for MsgPackSerializer<T> {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(feature = "msgpack")]
impl<T> std::fmt::Debug for MsgPackSerializer<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MsgPackSerializer")
    }
}

#[cfg(feature = "msgpack")]
impl<T: serde::Serialize + 'static> Serializer for MsgPackSerializer<T> {
    type Input = T;
    fn serialize(&self, _topic: &str, value: T) -> Result<Bytes, SerializeError> {
        Ok(Bytes::from(rmp_serde::to_vec_named(&value)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_serializers_produce_the_expected_bytes() {
        assert_eq!(
            BytesSerializer
                .serialize("t", Bytes::from_static(b"\x00\x01"))
                .unwrap(),
            Bytes::from_static(b"\x00\x01")
        );
        assert_eq!(
            &StringSerializer.serialize("t", "ping".into()).unwrap()[..],
            b"ping"
        );
        let upper = FnSerializer::new(|_t: &str, s: String| Ok(Bytes::from(s.to_uppercase())));
        assert_eq!(&upper.serialize("t", "ab".into()).unwrap()[..], b"AB");
    }

    #[cfg(feature = "json")]
    #[test]
    fn json_matches_python_json_dumps_compact_form() {
        let s = JsonSerializer::<serde_json::Value>::new();
        let v = serde_json::json!({"foo": "bar"});
        assert_eq!(&s.serialize("t", v).unwrap()[..], br#"{"foo":"bar"}"#);
    }

    #[cfg(feature = "msgpack")]
    #[test]
    fn msgpack_writes_a_map() {
        #[derive(serde::Serialize)]
        struct V {
            key: &'static str,
        }
        let s = MsgPackSerializer::<V>::new();
        let out = s.serialize("t", V { key: "value" }).unwrap();
        // fixmap of 1, fixstr "key", fixstr "value"
        assert_eq!(&out[..], b"\x81\xa3key\xa5value");
    }
}
