package s3

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"strings"
)

// XML request bodies. Each decoder takes the whole body (the caller bounds its size),
// accepts the document with or without S3's namespace, and fails with an *APIError
// (MalformedXML, InvalidArgument, InvalidPartOrder) for anything else.

const (
	s3NS = "http://s3.amazonaws.com/doc/2006-03-01/"
	// maxXMLBody bounds an XML request body: 10000 parts or 1000 keys with their tags.
	maxXMLBody = 2 << 20
)

// completedPart is one <Part> of a CompleteMultipartUpload request.
type completedPart struct {
	Number int
	ETag   string // without quotes
}

type completeXML struct {
	XMLName xml.Name `xml:"CompleteMultipartUpload"`
	Parts   []struct {
		PartNumber int
		ETag       string
	} `xml:"Part"`
}

// decodeComplete decodes a CompleteMultipartUpload body: 1 to MaxParts parts, numbers in
// 1..MaxParts and strictly ascending (InvalidPartOrder otherwise), ETags with or
// without quotes.
func decodeComplete(b []byte) ([]completedPart, error) {
	var x completeXML
	if err := decodeXML(b, &x); err != nil {
		return nil, err
	}
	if len(x.Parts) == 0 {
		return nil, errMalformedXML("CompleteMultipartUpload lists no parts")
	}
	if len(x.Parts) > MaxParts {
		return nil, errMalformedXML(fmt.Sprintf("CompleteMultipartUpload lists more than %d parts", MaxParts))
	}
	out := make([]completedPart, len(x.Parts))
	for i, p := range x.Parts {
		if p.PartNumber < 1 || p.PartNumber > MaxParts {
			return nil, errInvalidArgument(fmt.Sprintf("part number %d is not between 1 and %d", p.PartNumber, MaxParts))
		}
		if i > 0 && p.PartNumber <= out[i-1].Number {
			return nil, apiErr("InvalidPartOrder", "The list of parts was not in ascending order. The parts list must be specified in order by part number.")
		}
		out[i] = completedPart{Number: p.PartNumber, ETag: strings.Trim(strings.TrimSpace(p.ETag), `"`)}
	}
	return out, nil
}

type deleteXML struct {
	XMLName xml.Name `xml:"Delete"`
	Quiet   bool
	Objects []struct {
		Key       string
		VersionID string `xml:"VersionId"`
	} `xml:"Object"`
}

// decodeDelete decodes a DeleteObjects body: 1 to MaxBatch keys, each a valid key.
func decodeDelete(b []byte) (keys []string, quiet bool, err error) {
	var x deleteXML
	if err := decodeXML(b, &x); err != nil {
		return nil, false, err
	}
	if len(x.Objects) == 0 || len(x.Objects) > MaxBatch {
		return nil, false, errMalformedXML(fmt.Sprintf("Delete must list 1 to %d objects", MaxBatch))
	}
	keys = make([]string, len(x.Objects))
	for i, o := range x.Objects {
		if !ValidKey(o.Key) {
			return nil, false, apiErr("InvalidArgument", "an object key is empty, too long or not UTF-8")
		}
		keys[i] = o.Key
	}
	return keys, x.Quiet, nil
}

// decodeXML decodes one document into v, with or without the S3 namespace, refusing
// trailing data.
func decodeXML(b []byte, v any) error {
	if len(b) > maxXMLBody {
		return apiErr("MaxMessageLengthExceeded", "Your request was too big.")
	}
	d := xml.NewDecoder(bytes.NewReader(b))
	d.Strict = true
	d.DefaultSpace = s3NS
	if err := d.Decode(v); err != nil {
		return errMalformedXML("The XML you provided was not well-formed or did not validate against our published schema.")
	}
	for {
		t, err := d.Token()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return errMalformedXML("The XML you provided was not well-formed.")
		}
		switch t := t.(type) {
		case xml.CharData:
			if len(bytes.TrimSpace(t)) != 0 {
				return errMalformedXML("data after the XML document")
			}
		case xml.Comment, xml.ProcInst:
		default:
			return errMalformedXML("data after the XML document")
		}
	}
}

// Responses.

type listBucketsResult struct {
	XMLName xml.Name `xml:"ListAllMyBucketsResult"`
	Xmlns   string   `xml:"xmlns,attr"`
	Owner   owner
	Buckets []bucketXML `xml:"Buckets>Bucket"`
}

type owner struct {
	ID          string
	DisplayName string
}

type bucketXML struct {
	Name         string
	CreationDate string
}

type objectXML struct {
	Key          string
	LastModified string
	ETag         string
	Size         int64
	StorageClass string
}

type prefixXML struct {
	Prefix string
}

type listV2Result struct {
	XMLName               xml.Name `xml:"ListBucketResult"`
	Xmlns                 string   `xml:"xmlns,attr"`
	Name                  string
	Prefix                string
	Delimiter             string `xml:",omitempty"`
	StartAfter            string `xml:",omitempty"`
	ContinuationToken     string `xml:",omitempty"`
	NextContinuationToken string `xml:",omitempty"`
	KeyCount              int
	MaxKeys               int
	EncodingType          string `xml:",omitempty"`
	IsTruncated           bool
	Contents              []objectXML
	CommonPrefixes        []prefixXML
}

type listV1Result struct {
	XMLName        xml.Name `xml:"ListBucketResult"`
	Xmlns          string   `xml:"xmlns,attr"`
	Name           string
	Prefix         string
	Marker         string
	NextMarker     string `xml:",omitempty"`
	Delimiter      string `xml:",omitempty"`
	MaxKeys        int
	EncodingType   string `xml:",omitempty"`
	IsTruncated    bool
	Contents       []objectXML
	CommonPrefixes []prefixXML
}

type copyResult struct {
	XMLName      xml.Name `xml:"CopyObjectResult"`
	Xmlns        string   `xml:"xmlns,attr"`
	LastModified string
	ETag         string
}

type initiateResult struct {
	XMLName  xml.Name `xml:"InitiateMultipartUploadResult"`
	Xmlns    string   `xml:"xmlns,attr"`
	Bucket   string
	Key      string
	UploadID string `xml:"UploadId"`
}

type completeResult struct {
	XMLName  xml.Name `xml:"CompleteMultipartUploadResult"`
	Xmlns    string   `xml:"xmlns,attr"`
	Location string
	Bucket   string
	Key      string
	ETag     string
}

type partXML struct {
	PartNumber   int
	LastModified string
	ETag         string
	Size         int64
}

type listPartsResult struct {
	XMLName              xml.Name `xml:"ListPartsResult"`
	Xmlns                string   `xml:"xmlns,attr"`
	Bucket               string
	Key                  string
	UploadID             string `xml:"UploadId"`
	PartNumberMarker     int
	NextPartNumberMarker int
	MaxParts             int
	IsTruncated          bool
	Parts                []partXML `xml:"Part"`
}

type uploadXML struct {
	Key          string
	UploadID     string `xml:"UploadId"`
	Initiated    string
	StorageClass string
}

type listUploadsResult struct {
	XMLName            xml.Name `xml:"ListMultipartUploadsResult"`
	Xmlns              string   `xml:"xmlns,attr"`
	Bucket             string
	KeyMarker          string
	UploadIDMarker     string `xml:"UploadIdMarker"`
	NextKeyMarker      string
	NextUploadIDMarker string `xml:"NextUploadIdMarker"`
	Prefix             string
	MaxUploads         int
	IsTruncated        bool
	Uploads            []uploadXML `xml:"Upload"`
}

type deletedXML struct {
	Key string
}

type deleteErrorXML struct {
	Key     string
	Code    string
	Message string
}

type deleteResult struct {
	XMLName xml.Name         `xml:"DeleteResult"`
	Xmlns   string           `xml:"xmlns,attr"`
	Deleted []deletedXML     `xml:"Deleted"`
	Errors  []deleteErrorXML `xml:"Error"`
}

type locationResult struct {
	XMLName xml.Name `xml:"LocationConstraint"`
	Xmlns   string   `xml:"xmlns,attr"`
	Region  string   `xml:",chardata"`
}

type versioningResult struct {
	XMLName xml.Name `xml:"VersioningConfiguration"`
	Xmlns   string   `xml:"xmlns,attr"`
}
