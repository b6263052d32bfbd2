package deps
import (
 _ "github.com/crewjam/saml"
 _ "github.com/crewjam/saml/samlidp"
 _ "github.com/go-chi/chi/v5"
 _ "github.com/go-chi/httprate"
 _ "github.com/jackc/pgx/v5/pgxpool"
 _ "github.com/golang-migrate/migrate/v4"
 _ "github.com/golang-migrate/migrate/v4/source/iofs"
 _ "github.com/golang-migrate/migrate/v4/database/pgx/v5"
 _ "github.com/prometheus/client_golang/prometheus/promhttp"
 _ "github.com/chromedp/chromedp"
 _ "golang.org/x/crypto/argon2"
 _ "golang.org/x/term"
 _ "github.com/russellhaering/goxmldsig"
 _ "github.com/beevik/etree"
)
